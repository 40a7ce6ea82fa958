import type { ElementwiseRule } from './elementwise-optimizer.js';
import { add, defineKernel, flushSubnormal, mul, sub } from './wasm/kernel.js';

export interface MomentumHyperParameters {
  /** Learning rate α. @default 0.01 */
  readonly lr: number;
  /** γ, the weight of the previous displacement. @default 0.9 */
  readonly momentum: number;
}

/**
 * SGD + momentum in the lecture's form (Qian, 1999):
 *
 *   w(k+1) = w(k) − α∇J(w(k)) + γ[w(k) − w(k−1)],   γ = 0.9 by default.
 *
 * Slot `delta` holds the previous displacement w(k) − w(k−1) (the displacement this rule applied,
 * rounded to float32), zero before the first step, so the first step is plain SGD.
 *
 * Relation to the accumulator form of `tf.train.momentum` and `torch.optim.SGD(momentum=γ)`,
 * v ← γv + g, w ← w − αv: with a constant α, delta = −αv and both produce the same iterates. When α
 * changes (a schedule), the forms differ: here the previous displacement keeps the α it was taken
 * with, there the whole accumulated velocity is rescaled by the new α.
 *
 * This loop (double-precision intermediates) is the reference; `createOptimizer` runs
 * `momentumKernel`.
 */
export function momentumStep(params: Float32Array, grads: Float32Array, delta: Float32Array, lr: number, momentum: number): void {
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const d = momentum * delta[i] - lr * grads[i];
    delta[i] = d;
    params[i] += d;
  }
}

/** `momentumStep` in float32: d ← γ·d − α·g; w ← w + d. */
export const momentumKernel = defineKernel({
  name: 'momentum',
  arrays: ['params', 'grads', 'delta'],
  scalars: ['lr', 'momentum'],
  values: (_t: number, lr: number, config: MomentumHyperParameters) => ({ lr, momentum: config.momentum }),
  body: ({ params, grads, delta }, s) => {
    const d = flushSubnormal(sub(mul(s.momentum, delta.load()), mul(s.lr, grads.load())));
    return [delta.store(d), params.store(add(params.load(), d))];
  },
});

export const momentum: ElementwiseRule<MomentumHyperParameters> = {
  name: 'momentum',
  defaults: { lr: 0.01, momentum: 0.9 },
  slots: () => ['delta'],
  kernel: () => momentumKernel,
  reference: (params, grads, slots, _t, lr, config) => momentumStep(params, grads, slots[0], lr, config.momentum),
};
