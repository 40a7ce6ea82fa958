import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('momentum', () => {
  it("follows the lecture's w(k+1) = w(k) − α∇J(w(k)) + γ[w(k) − w(k−1)] for three steps", () => {
    const opt = createOptimizer({ name: 'momentum', lr: 0.1, momentum: 0.5 }, 2);
    const [w1, w2, w3] = trajectory(
      opt,
      [1, -2],
      [
        [2, 4],
        [-1, 0.5],
        [4, -2],
      ],
    );
    // w(0) − w(−1) = 0, so step 1 is plain SGD: d1 = −0.1·[2, 4] = [−0.2, −0.4]; w1 = [0.8, −2.4]
    expectClose(w1, [0.8, -2.4]);
    // d2 = −0.1·[−1, 0.5] + 0.5·[−0.2, −0.4] = [0.1 − 0.1, −0.05 − 0.2] = [0, −0.25]; w2 = [0.8, −2.65]
    expectClose(w2, [0.8, -2.65], { abs: 1e-7 });
    // d3 = −0.1·[4, −2] + 0.5·[0, −0.25] = [−0.4, 0.2 − 0.125] = [−0.4, 0.075]; w3 = [0.4, −2.575]
    expectClose(w3, [0.4, -2.575]);
    // slot delta = w(3) − w(2)
    expectClose(opt.state().slots['delta'], [-0.4, 0.075]);
  });

  it('keeps the previous displacement when the learning rate changes (unlike the accumulator form)', () => {
    const opt = createOptimizer({ name: 'momentum', lr: 0.1, momentum: 0.5 }, 1);
    const w = Float32Array.of(1);
    opt.step(w, Float32Array.of(4)); // d1 = −0.1·4 = −0.4; w = 0.6
    opt.step(w, Float32Array.of(0), 0.2); // d2 = −0.2·0 + 0.5·(−0.4) = −0.2; w = 0.4
    // The accumulator form v = γv + g, w −= αv would give v = 0.5·4 = 2, w = 0.6 − 0.2·2 = 0.2.
    expectClose(w, [0.4]);
  });

  it('takes the gradient at params (no look-ahead)', () => {
    const opt = createOptimizer({ name: 'momentum' }, 1);
    const out = Float32Array.of(3);
    expect(opt.lookahead(Float32Array.of(1), out)).toBe(false);
    expect(out[0]).toBe(3);
    expect(opt.config).toEqual({ name: 'momentum', lr: 0.01, momentum: 0.9 });
  });
});
