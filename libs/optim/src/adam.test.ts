import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { bits, expectClose, seededRandom, trajectory } from './test-support.js';

describe('adam', () => {
  it('follows the lecture’s moments, bias correction and α/(√v̂ + ε)·m̂ for three steps', () => {
    // γ1 = 0.5, γ2 = 0.75 and ε = 1 make every term visible (swapped betas or ε inside the root fail).
    const opt = createOptimizer({ name: 'adam', lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 1 }, 1);
    const [w1, w2, w3] = trajectory(opt, [1], [[2], [4], [-4]]);
    // k=1: m = 0.5·2 = 1;            v = 0.25·4 = 1;            m̂ = 1/0.5 = 2;     v̂ = 1/0.25 = 4
    //      w1 = 1 − 0.1·2/(2 + 1) = 1 − 0.2/3
    const w1e = 1 - 0.2 / 3;
    expectClose(w1, [w1e]);
    // k=2: m = 0.5 + 0.5·4 = 2.5;     v = 0.75 + 0.25·16 = 4.75;   m̂ = 2.5/0.75;   v̂ = 4.75/0.4375
    const w2e = w1e - (0.1 * (2.5 / 0.75)) / (Math.sqrt(4.75 / 0.4375) + 1);
    expectClose(w2, [w2e]);
    // k=3: m = 1.25 − 2 = −0.75;      v = 3.5625 + 4 = 7.5625;      m̂ = −0.75/0.875; v̂ = 7.5625/0.578125
    expectClose(w3, [w2e + (0.1 * (0.75 / 0.875)) / (Math.sqrt(7.5625 / 0.578125) + 1)]);
    expectClose(opt.state().slots['m'], [-0.75]);
    expectClose(opt.state().slots['v'], [7.5625]);
    expect(opt.state().step).toBe(3);
  });

  it('defaults to γ1 = 0.9, γ2 = 0.999, ε = 1e-8, α = 0.001, and moves the first step by ≈ α', () => {
    const opt = createOptimizer({ name: 'adam' }, 2);
    expect(opt.config).toEqual({ name: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const w = Float32Array.of(1, 1);
    opt.step(w, Float32Array.of(3, -0.5));
    // m̂ = g, v̂ = g², so the step is α·g/(|g| + 1e-8) = ±α up to 1e-8 relative.
    expectClose(w, [0.999, 1.001]);
  });

  it('is AdamW with weightDecay 0, bit for bit', () => {
    const rng = seededRandom(7);
    const a = createOptimizer({ name: 'adam', lr: 0.01 }, 64);
    const b = createOptimizer({ name: 'adamw', lr: 0.01, weightDecay: 0 }, 64);
    const wa = Float32Array.from({ length: 64 }, () => rng() - 0.5);
    const wb = wa.slice();
    for (let t = 0; t < 20; t++) {
      const g = Float32Array.from({ length: 64 }, () => rng() - 0.5);
      a.step(wa, g);
      b.step(wb, g);
    }
    expect(bits(wb)).toEqual(bits(wa));
  });
});
