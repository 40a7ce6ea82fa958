import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { expectClose, trajectory } from './test-support.js';

describe('adamw', () => {
  it('subtracts α·λ·w(k) besides the Adam step, three steps', () => {
    const opt = createOptimizer({ name: 'adamw', lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 1, weightDecay: 0.5 }, 1);
    const [w1, w2, w3] = trajectory(opt, [1], [[2], [4], [-4]]);
    // The Adam steps u(k) are those of adam.test.ts (same g, γ1, γ2, ε):
    const u1 = 0.2 / 3;
    const u2 = (0.1 * (2.5 / 0.75)) / (Math.sqrt(4.75 / 0.4375) + 1);
    const u3 = -(0.1 * (0.75 / 0.875)) / (Math.sqrt(7.5625 / 0.578125) + 1);
    // w(k+1) = w(k) − 0.1·0.5·w(k) − u(k) = 0.95·w(k) − u(k)
    const w1e = 0.95 * 1 - u1;
    const w2e = 0.95 * w1e - u2;
    const w3e = 0.95 * w2e - u3;
    expectClose(w1, [w1e]);
    expectClose(w2, [w2e]);
    expectClose(w3, [w3e]);
  });

  it('decays weights by α·λ·w even where the gradient is zero', () => {
    const opt = createOptimizer({ name: 'adamw', lr: 0.1 }, 1);
    expect(opt.config).toEqual({ name: 'adamw', lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    const w = Float32Array.of(2);
    // m = v = 0: only the decay, 2·(1 − 0.1·0.01) = 1.998. (An L2 term λw added to the gradient
    // would go through Adam's normalisation and move w by ≈ α = 0.1 instead.)
    opt.step(w, Float32Array.of(0));
    expectClose(w, [1.998]);
  });
});
