import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('adadelta', () => {
  it("follows Zeiler's order for three steps: step with q(k−1), then q absorbs the step", () => {
    // γ = 0.5, ε = 1 make the roots simple; α = 0.5 scales the applied step only.
    const opt = createOptimizer({ name: 'adadelta', lr: 0.5, rho: 0.5, eps: 1 }, 2);
    const [w1, w2, w3] = trajectory(
      opt,
      [1, -1],
      [
        [2, -2],
        [1, -1],
        [-2, 2],
      ],
    );
    // v1 = 0.5·0 + 0.5·4 = 2;  Δ1 = √(q0 + 1)/√(v1 + 1)·g = √1/√3·2 = 2/√3;  q1 = 0.5·(4/3) = 2/3
    // w1 = [1 − 0.5·2/√3, −1 + 0.5·2/√3]
    const w1e = 1 - 1 / Math.sqrt(3);
    expectClose(w1, [w1e, -w1e]);
    // v2 = 0.5·2 + 0.5·1 = 1.5;  Δ2 = √(2/3 + 1)/√(1.5 + 1)·1 = √(2/3);  q2 = 0.5·2/3 + 0.5·2/3 = 2/3
    const w2e = w1e - 0.5 * Math.sqrt(2 / 3);
    // w2 ≈ 0.0144 is the difference of two numbers ≈ 0.41 computed in float32 (one ulp there is
    // 3e-8), so its error is a few 1e-8 absolute (2.5e-8 measured), not 1e-6 relative to 0.0144.
    expectClose(w2, [w2e, -w2e], { abs: 1e-7 });
    // v3 = 0.5·1.5 + 0.5·4 = 2.75;  Δ3 = √(5/3)/√(3.75)·(−2) = (2/3)·(−2) = −4/3;  q3 = 1/3 + 0.5·16/9 = 11/9
    const w3e = w2e + (0.5 * 4) / 3;
    expectClose(w3, [w3e, -w3e]);
    // q holds the unscaled steps: α = 0.5 did not enter it.
    const { gradSquareAvg, deltaSquareAvg } = opt.state().slots;
    expectClose(gradSquareAvg, [2.75, 2.75]);
    expectClose(deltaSquareAvg, [11 / 9, 11 / 9]);
  });

  it('starts with the step −√ε/√((1−γ)g² + ε)·g (not g, as tf.train.adadelta does)', () => {
    const opt = createOptimizer({ name: 'adadelta' }, 1);
    expect(opt.config).toEqual({ name: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6 });
    const w = Float32Array.of(0);
    opt.step(w, Float32Array.of(1));
    // −√1e-6/√(0.1·1 + 1e-6)·1 = −1e-3/√0.100001 = −0.0031622619
    expectClose(w, [-1e-3 / Math.sqrt(0.100001)]);
  });
});
