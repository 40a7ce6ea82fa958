import { describe, expect, it } from 'vitest';
import { adadelta } from './adadelta.js';
import { adagrad } from './adagrad.js';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import { ElementwiseOptimizer } from './elementwise-optimizer.js';
import type { ElementwiseRule } from './elementwise-optimizer.js';
import { resolveConfig } from './hyper-parameters.js';
import { momentum } from './momentum.js';
import { nesterov } from './nesterov.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';
import { maxRelativeError, seededRandom } from './test-support.js';
import type { OptimizerConfig } from './types.js';

const SIZE = 1000;
const STEPS = 100;

type AnyRule = ElementwiseRule<{ readonly lr: number }>;
const CASES: [AnyRule, OptimizerConfig][] = [
  [sgd, { name: 'sgd', lr: 0.01 }],
  [momentum, { name: 'momentum', lr: 0.002 }],
  [nesterov, { name: 'nesterov', lr: 0.002 }],
  [adagrad, { name: 'adagrad', lr: 0.05 }],
  [adadelta, { name: 'adadelta' }],
  [adam, { name: 'adam', lr: 0.001 }],
  [adamw, { name: 'adamw', lr: 0.001, weightDecay: 0.1 }],
  [rmsprop, { name: 'rmsprop', lr: 0.001 }],
  [rmsprop, { name: 'rmsprop', lr: 0.001, momentum: 0.9 }],
] as unknown as [AnyRule, OptimizerConfig][];

/**
 * max_i |a_i − b_i| / max_i |b_i|: slots such as m or delta pass through zero, where an element's
 * own relative error means nothing.
 */
function scaledError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/**
 * The plain JavaScript loops (double-precision intermediates, float32 storage) are the documented
 * reference; the kernels `step()` runs compute in float32 and must stay within its rounding.
 */
describe('kernels against the plain JavaScript reference (100 steps, 1000 parameters)', () => {
  it.each(CASES.map(([rule, config]) => [JSON.stringify(config), rule, config] as const))(
    '%s: parameters and slots agree within float32 rounding',
    (_label, rule, config) => {
      const rng = seededRandom(11);
      // |w| in [0.5, 1.5) so that no weight crosses zero and relative errors stay meaningful
      const start = Float32Array.from({ length: SIZE }, () => (rng() < 0.5 ? -1 : 1) * (0.5 + rng()));
      const opt = new ElementwiseOptimizer(rule, config, SIZE);
      const resolved = resolveConfig(config, rule.defaults);
      const slots = rule.slots(resolved).map(() => new Float32Array(SIZE));
      const w = start.slice();
      const wRef = start.slice();
      const point = new Float32Array(SIZE);
      const pointRef = new Float32Array(SIZE);
      const g = new Float32Array(SIZE);
      let worstPoint = 0;
      for (let t = 1; t <= STEPS; t++) {
        for (let i = 0; i < SIZE; i++) g[i] = 2 * rng() - 1;
        if (opt.lookahead(w, point)) {
          rule.referenceLookahead!(wRef, slots, resolved, pointRef);
          worstPoint = Math.max(worstPoint, maxRelativeError(point, pointRef));
        }
        opt.step(w, g);
        rule.reference(wRef, g, slots, t, resolved.lr, resolved);
      }
      const errors = {
        params: maxRelativeError(w, wRef),
        point: worstPoint,
        ...Object.fromEntries(rule.slots(resolved).map((name, k) => [name, scaledError(opt.state().slots[name], slots[k])])),
      };
      // Measured: parameters 1.2e-7 to 5.2e-7 (adamw 1.5e-6: its decay moves every weight each step,
      // so each step rounds w anew on both sides), slots 8.8e-8 to 1.1e-6. Float32 rounds each
      // operation by up to 6e-8 relative; 100 steps of ~10 operations stay far below 1e-5.
      for (const [what, error] of Object.entries(errors)) expect(error, what).toBeLessThanOrEqual(1e-5);
      expect(maxRelativeError(w, start)).toBeGreaterThan(1e-2);
    },
  );
});
