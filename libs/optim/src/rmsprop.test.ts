import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('rmsprop', () => {
  const grads = [
    [2, -2],
    [1, 0],
    [-2, 4],
  ];

  it('follows v(k) = ρv(k−1) + (1−ρ)g², w −= α·g/√(v + ε) for three steps', () => {
    const opt = createOptimizer({ name: 'rmsprop', lr: 0.1, rho: 0.5, eps: 1 }, 2);
    const [w1, w2, w3] = trajectory(opt, [1, -1], grads);
    // v1 = 0.5·[4, 4] = [2, 2];          w1 = [1 − 0.1·2/√3, −1 + 0.1·2/√3]
    const w1e = [1 - 0.2 / Math.sqrt(3), -1 + 0.2 / Math.sqrt(3)];
    expectClose(w1, w1e);
    // v2 = [1 + 0.5, 1 + 0] = [1.5, 1];  w2 = w1 − 0.1·[1/√2.5, 0]
    const w2e = [w1e[0] - 0.1 / Math.sqrt(2.5), w1e[1]];
    expectClose(w2, w2e);
    // v3 = [0.75 + 2, 0.5 + 8] = [2.75, 8.5]; w3 = w2 − 0.1·[−2/√3.75, 4/√9.5]
    expectClose(w3, [w2e[0] + 0.2 / Math.sqrt(3.75), w2e[1] - 0.4 / Math.sqrt(9.5)]);
    expect(Object.keys(opt.state().slots)).toEqual(['gradSquareAvg']);
  });

  it('adds γ[w(k) − w(k−1)] when momentum > 0, with its own slot', () => {
    const opt = createOptimizer({ name: 'rmsprop', lr: 0.1, rho: 0.5, eps: 1, momentum: 0.5 }, 2);
    const [w1, w2, w3] = trajectory(opt, [1, -1], grads);
    // u(k) = 0.1·g/√(v + 1) as above; d(k) = 0.5·d(k−1) − u(k); w += d
    const u1 = [0.2 / Math.sqrt(3), -0.2 / Math.sqrt(3)];
    const u2 = [0.1 / Math.sqrt(2.5), 0];
    const u3 = [-0.2 / Math.sqrt(3.75), 0.4 / Math.sqrt(9.5)];
    const d1 = [-u1[0], -u1[1]];
    const d2 = [0.5 * d1[0] - u2[0], 0.5 * d1[1] - u2[1]];
    const d3 = [0.5 * d2[0] - u3[0], 0.5 * d2[1] - u3[1]];
    expectClose(w1, [1 + d1[0], -1 + d1[1]]);
    expectClose(w2, [1 + d1[0] + d2[0], -1 + d1[1] + d2[1]]);
    expectClose(w3, [1 + d1[0] + d2[0] + d3[0], -1 + d1[1] + d2[1] + d3[1]]);
    expect(Object.keys(opt.state().slots)).toEqual(['gradSquareAvg', 'delta']);
  });
});
