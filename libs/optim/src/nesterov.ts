import type { ElementwiseRule } from './elementwise-optimizer.js';
import type { MomentumHyperParameters } from './momentum.js';
import { momentumStep } from './momentum.js';

/**
 * Writes the Nesterov look-ahead point w(k) + γ[w(k) − w(k−1)] into `out`.
 * @param delta the previous displacement w(k) − w(k−1) (slot `delta`).
 */
export function nesterovLookahead(
  params: Float32Array,
  delta: Float32Array,
  momentum: number,
  out: Float32Array,
): void {
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
export const nesterov: ElementwiseRule<MomentumHyperParameters> = {
  name: 'nesterov',
  defaults: { lr: 0.01, momentum: 0.9 },
  slots: () => ['delta'],
  update: (params, grads, slots, _t, lr, config) => momentumStep(params, grads, slots[0], lr, config.momentum),
  lookahead: (params, slots, config, out) => nesterovLookahead(params, slots[0], config.momentum, out),
};
