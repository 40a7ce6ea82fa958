import type { ElementwiseRule } from './elementwise-optimizer.js';

export interface AdamHyperParameters {
  /** Learning rate α. @default 0.001 */
  readonly lr: number;
  /** Forgetting factor γ1 of the first moment. @default 0.9 */
  readonly beta1: number;
  /** Forgetting factor γ2 of the second moment. @default 0.999 */
  readonly beta2: number;
  /** ε added to √v̂. @default 1e-8 */
  readonly eps: number;
}

/**
 * Adam (Kingma & Ba, 2015) as the lecture writes it:
 *
 *   m(k) = γ1 m(k−1) + (1−γ1) ∇J(w(k)),     v(k) = γ2 v(k−1) + (1−γ2) ∇J(w(k))²
 *   m̂(k) = m(k)/(1−γ1^k),                   v̂(k) = v(k)/(1−γ2^k)
 *   w(k+1) = w(k) − α/(√v̂(k) + ε) · m̂(k)
 *
 * γ1 = 0.9, γ2 = 0.999, ε = 1e-8, α = 0.001 by default. Slots, in order: `m` and `v`, zero at the
 * start; k is the number of the step (1 for the first), kept as `state().step`.
 *
 * With `weightDecay` λ > 0 this is AdamW's rule (see `adamw`): w(k+1) also loses α·λ·w(k).
 *
 * `tf.train.adam` is the same rule with ε defaulting to the backend's 1e-7 (pass 1e-8 to match);
 * `torch.optim.Adam` is the same with ε = 1e-8 (its `weight_decay` adds λw to the gradient instead).
 * The code computes √v̂ as √v/√(1−γ2^k) and α/(1−γ1^k) once per step, as PyTorch does.
 */
export function adamStep(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay = 0,
): void {
  const stepSize = lr / (1 - beta1 ** t);
  const invSqrtCorrection2 = 1 / Math.sqrt(1 - beta2 ** t);
  const shrink = 1 - lr * weightDecay;
  const keep1 = 1 - beta1;
  const keep2 = 1 - beta2;
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + keep1 * g;
    const vi = beta2 * v[i] + keep2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = shrink * params[i] - (stepSize * mi) / (Math.sqrt(vi) * invSqrtCorrection2 + eps);
  }
}

export const adam: ElementwiseRule<AdamHyperParameters> = {
  name: 'adam',
  defaults: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  slots: () => ['m', 'v'],
  update: (params, grads, slots, t, lr, config) =>
    adamStep(params, grads, slots[0], slots[1], t, lr, config.beta1, config.beta2, config.eps),
};
