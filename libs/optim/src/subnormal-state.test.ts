import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import { bits } from './test-support.js';
import type { OptimizerConfig } from './types.js';

const LEAST_NORMAL = 2 ** -126;
const isSubnormal = (x: number) => x !== 0 && Math.abs(x) < LEAST_NORMAL;

/** Every optimizer whose state decays by a factor below 1 at each step. */
const DECAYING: OptimizerConfig[] = [
  { name: 'momentum' },
  { name: 'nesterov' },
  { name: 'adam' },
  { name: 'adamw', weightDecay: 0 },
  { name: 'adadelta' },
  { name: 'rmsprop' },
  { name: 'rmsprop', momentum: 0.9 },
];

describe('optimizer state that decays towards zero', () => {
  it.each(DECAYING.map((config) => [JSON.stringify(config), config] as const))(
    '%s: goes from the least normal floats to 0 without holding a subnormal, the parameters untouched',
    (_label, config) => {
      const size = 37; // nine f32x4 steps and a one-element tail
      const opt = createOptimizer(config, size);
      const start = Float32Array.from({ length: size }, (_, i) => 0.5 + i / size);
      opt.buffers.params.set(start);
      opt.buffers.grads.fill(0);
      // State just above the subnormal range: γ = 0.9 takes it below in a few steps, 0.999 in about 700.
      const state = opt.state();
      const slots = Object.fromEntries(Object.keys(state.slots).map((name) => [name, new Float32Array(size).fill(2 ** -125)]));
      opt.load({ ...state, step: 10, slots });
      let flushed = 0;
      for (let step = 0; step < 1500; step++) {
        opt.lookahead(opt.buffers.params, opt.buffers.point);
        opt.step(opt.buffers.params, opt.buffers.grads);
        for (const [name, values] of Object.entries(opt.state().slots)) {
          const bad = values.find(isSubnormal);
          expect(bad, `${name} after step ${step + 1}`).toBeUndefined();
          flushed += values.filter((v) => v === 0).length;
        }
      }
      expect(flushed).toBeGreaterThan(0);
      expect(bits(opt.buffers.params)).toEqual(bits(start));
    },
  );
});
