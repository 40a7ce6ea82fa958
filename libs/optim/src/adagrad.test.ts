import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('adagrad', () => {
  it('follows w_i(k+1) = w_i(k) − α/√(G_ii(k) + ε)·g_i for three steps, ε inside the root', () => {
    // ε = 5 is far from its default so that its place shows: G + 5 is a perfect square each step.
    const opt = createOptimizer({ name: 'adagrad', lr: 0.5, eps: 5 }, 2);
    const [w1, w2, w3] = trajectory(
      opt,
      [1, -1],
      [
        [2, -2],
        [4, 0],
        [12, -4],
      ],
    );
    // G1 = [4, 4];  √(G1 + 5) = [3, 3];  w1 = [1 − 0.5·2/3, −1 + 0.5·2/3] = [2/3, −2/3]
    expectClose(w1, [2 / 3, -2 / 3]);
    // G2 = [20, 4]; √(G2 + 5) = [5, 3];  w2 = [2/3 − 0.5·4/5, −2/3 − 0] = [4/15, −2/3]
    expectClose(w2, [4 / 15, -2 / 3]);
    // G3 = [164, 20]; √(G3 + 5) = [13, 5]; w3 = [4/15 − 0.5·12/13, −2/3 + 0.5·4/5] = [−38/195, −4/15]
    expectClose(w3, [-38 / 195, -4 / 15]);
    expectClose(opt.state().slots['gradSquareSum'], [164, 20]);
  });

  it('defaults to the lecture’s α = 0.01 and ε = 1e-8', () => {
    expect(createOptimizer({ name: 'adagrad' }, 1).config).toEqual({ name: 'adagrad', lr: 0.01, eps: 1e-8 });
  });
});
