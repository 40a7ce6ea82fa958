import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('sgd', () => {
  it('follows w(k+1) = w(k) − α∇J(w(k)) for three steps', () => {
    const opt = createOptimizer({ name: 'sgd', lr: 0.1 }, 2);
    const [w1, w2, w3] = trajectory(
      opt,
      [1, -2],
      [
        [2, 4],
        [-1, 0.5],
        [0, -10],
      ],
    );
    // w1 = [1 − 0.1·2, −2 − 0.1·4] = [0.8, −2.4]
    expectClose(w1, [0.8, -2.4]);
    // w2 = [0.8 − 0.1·(−1), −2.4 − 0.1·0.5] = [0.9, −2.45]
    expectClose(w2, [0.9, -2.45]);
    // w3 = [0.9 − 0, −2.45 − 0.1·(−10)] = [0.9, −1.45]
    expectClose(w3, [0.9, -1.45]);
  });

  it('uses the per-step learning rate when one is given, and the default 0.01 otherwise', () => {
    const opt = createOptimizer({ name: 'sgd' }, 1);
    expect(opt.config.lr).toBe(0.01);
    const w = Float32Array.of(1);
    opt.step(w, Float32Array.of(10)); // 1 − 0.01·10 = 0.9
    expectClose(w, [0.9]);
    opt.step(w, Float32Array.of(10), 0.05); // 0.9 − 0.05·10 = 0.4
    expectClose(w, [0.4]);
    expect(opt.steps).toBe(2);
  });

  it('has no look-ahead and no slots', () => {
    const opt = createOptimizer({ name: 'sgd' }, 2);
    const out = Float32Array.of(7, 7);
    expect(opt.lookahead(Float32Array.of(1, 2), out)).toBe(false);
    expect(Array.from(out)).toEqual([7, 7]);
    expect(Object.keys(opt.state().slots)).toEqual([]);
  });
});
