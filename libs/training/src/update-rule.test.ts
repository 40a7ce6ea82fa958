import { parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { UpdateRule } from './update-rule.js';

// SGD, α = 0.1 halved every 2 steps, gradients clipped to a global norm of 1:
// w(k+1) = w(k) − α(k)·g·min(1, 1/‖g‖).
const config = parseConfig({ optimizer: 'sgd', lr: 0.1, schedule: 'step', lrStepSize: 2, lrGamma: 0.5, clipNorm: 1, out: 'x' });

describe('UpdateRule', () => {
  it('clips the mean gradient, then steps with the rate the schedule gives the step', () => {
    const rule = new UpdateRule(config, 2, 10, 5);
    const params = new Float32Array([1, -1]);
    const lrs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const grad = new Float32Array([3, 4]);
      const { lr, gradNorm } = rule.apply(params, grad);
      lrs.push(lr);
      expect(gradNorm).toBe(5);
      // Clipping scales the gradient in place: the caller sees what was applied.
      expect([grad[0], grad[1]]).toEqual([Math.fround(3 / 5), Math.fround(4 / 5)]);
    }
    expect(lrs).toEqual([0.1, 0.1, 0.05]);
    expect(rule.steps).toBe(3);
    expect(params[0]).toBeCloseTo(1 - (0.1 + 0.1 + 0.05) * 0.6, 6);
    expect(params[1]).toBeCloseTo(-1 - (0.1 + 0.1 + 0.05) * 0.8, 6);
  });

  it('without clipping leaves the gradient as it is and measures its norm only when asked', () => {
    const rule = new UpdateRule({ ...config, clipNorm: undefined }, 2, 10, 5);
    expect(rule.changesGradient).toBe(false);
    const grad = new Float32Array([3, 4]);
    expect(rule.update(new Float32Array(2), grad)).toEqual({ lr: 0.1, gradNorm: undefined });
    expect([grad[0], grad[1]]).toEqual([3, 4]);
    expect(rule.apply(new Float32Array(2), grad).gradNorm).toBe(5);
  });
});
