import type { ElementwiseRule } from './elementwise-optimizer.js';
import { add, defineKernel, div, flushSubnormal, mul, sqrt, sub } from './wasm/kernel.js';

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
 *
 * This loop (double-precision intermediates) is the reference; `createOptimizer` runs `adamKernel`.
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

/**
 * `adamStep` in float32, one pass over w, g, m, v: m ← γ1·m + (1−γ1)·g; v ← γ2·v + (1−γ2)·g·g;
 * w ← w − αλ·w − (α/(1−γ1^k))·m/(√v·(1/√(1−γ2^k)) + ε). The per-step factors are computed in
 * double precision and rounded to float32 once. The decay is subtracted as αλ·w rather than
 * applied as the factor (1 − αλ): float32 rounds 1 − 1e-4 by up to 3e-8 relative, a bias that
 * compounds over steps (3e-6 after 100), while the rounding of αλ itself only costs 3e-12 of w.
 * λ = 0 (adam) subtracts an exact 0.
 */
export const adamKernel = defineKernel({
  name: 'adam',
  arrays: ['params', 'grads', 'm', 'v'],
  scalars: ['beta1', 'keep1', 'beta2', 'keep2', 'stepSize', 'invSqrtCorrection2', 'eps', 'decay'],
  values: (t: number, lr: number, config: AdamHyperParameters & { readonly weightDecay?: number }) => ({
    beta1: config.beta1,
    keep1: 1 - config.beta1,
    beta2: config.beta2,
    keep2: 1 - config.beta2,
    stepSize: lr / (1 - config.beta1 ** t),
    invSqrtCorrection2: 1 / Math.sqrt(1 - config.beta2 ** t),
    eps: config.eps,
    decay: lr * (config.weightDecay ?? 0),
  }),
  body: ({ params, grads, m, v }, s) => {
    const g = grads.load();
    const mi = flushSubnormal(add(mul(s.beta1, m.load()), mul(s.keep1, g)));
    const vi = flushSubnormal(add(mul(s.beta2, v.load()), mul(mul(s.keep2, g), g)));
    const update = div(mul(s.stepSize, mi), add(mul(sqrt(vi), s.invSqrtCorrection2), s.eps));
    const w = params.load();
    return [m.store(mi), v.store(vi), params.store(sub(sub(w, mul(s.decay, w)), update))];
  },
});

export const adam: ElementwiseRule<AdamHyperParameters> = {
  name: 'adam',
  defaults: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  slots: () => ['m', 'v'],
  kernel: () => adamKernel,
  reference: (params, grads, slots, t, lr, config) => adamStep(params, grads, slots[0], slots[1], t, lr, config.beta1, config.beta2, config.eps),
};
