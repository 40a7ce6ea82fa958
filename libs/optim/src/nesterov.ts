import type { ElementwiseRule } from './elementwise-optimizer.js';
import type { MomentumHyperParameters } from './momentum.js';
import { momentumKernel, momentumStep } from './momentum.js';
import { add, defineKernel, mul } from './wasm/kernel.js';

/**
 * Writes the Nesterov look-ahead point w(k) + γ[w(k) − w(k−1)] into `out`.
 * @param delta the previous displacement w(k) − w(k−1) (slot `delta`).
 *
 * This loop is the reference; `createOptimizer` runs `nesterovLookaheadKernel`.
 */
export function nesterovLookahead(params: Float32Array, delta: Float32Array, momentum: number, out: Float32Array): void {
  const n = params.length;
  for (let i = 0; i < n; i++) out[i] = params[i] + momentum * delta[i];
}

/**
 * Nesterov accelerated gradient in the lecture's form: the gradient is taken at the look-ahead
 * point and applied at w(k),
 *
 *   w(k+1) = w(k) − α∇J(w(k) + γ[w(k) − w(k−1)]) + γ[w(k) − w(k−1)],   γ = 0.9 by default.
 *
 * The update is the momentum rule (`momentumStep`, slot `delta`); only the point where the gradient
 * is taken differs, so `lookahead()` writes w(k) + γ[w(k) − w(k−1)] and returns true, and the
 * parameter server hands that point to the workers. `step(params, grads)` must receive the
 * gradient taken there, with `params` still w(k).
 *
 * `tf.train.momentum(α, γ, true)` and `torch.optim.SGD(nesterov=True)` use Sutskever's
 * reformulation: their parameter vector is our look-ahead point, and they take the gradient at it.
 * With a constant α their iterates equal the sequence of our look-ahead points, not our w(k).
 */
/** `nesterovLookahead` in float32: point ← w + γ·d. */
export const nesterovLookaheadKernel = defineKernel({
  name: 'nesterovLookahead',
  arrays: ['params', 'delta', 'point'],
  scalars: ['momentum'],
  values: (_t: number, _lr: number, config: MomentumHyperParameters) => ({ momentum: config.momentum }),
  body: ({ params, delta, point }, s) => [point.store(add(params.load(), mul(s.momentum, delta.load())))],
});

export const nesterov: ElementwiseRule<MomentumHyperParameters> = {
  name: 'nesterov',
  defaults: { lr: 0.01, momentum: 0.9 },
  slots: () => ['delta'],
  kernel: () => momentumKernel,
  lookaheadKernel: nesterovLookaheadKernel,
  reference: (params, grads, slots, _t, lr, config) => momentumStep(params, grads, slots[0], lr, config.momentum),
  referenceLookahead: (params, slots, config, out) => nesterovLookahead(params, slots[0], config.momentum, out),
};
