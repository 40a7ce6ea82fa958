import type { ElementwiseRule } from './elementwise-optimizer.js';
import { add, defineKernel, div, flushSubnormal, mul, sqrt, sub } from './wasm/kernel.js';

export interface AdadeltaHyperParameters {
  /** Multiplier of the step; Zeiler and the lecture have none (1). @default 1 */
  readonly lr: number;
  /** Forgetting factor γ of both running averages. @default 0.9 */
  readonly rho: number;
  /** ε inside both square roots. @default 1e-6 */
  readonly eps: number;
}

/**
 * Adadelta (Zeiler, 2012; Ruder, 2017), with forgetting factor γ (`rho`):
 *
 *   v(k)  = γ v(k−1) + (1−γ) ∇J(w(k))²                       running average of squared gradients
 *   Δw(k) = −√(q(k−1) + ε) / √(v(k) + ε) ∘ ∇J(w(k))          step
 *   q(k)  = γ q(k−1) + (1−γ) Δw(k)²                           running average of squared steps
 *   w(k+1) = w(k) + α Δw(k)
 *
 * γ = 0.9, ε = 1e-6, α = 1 by default. Slots, in order: `gradSquareAvg` (v) and `deltaSquareAvg`
 * (q), both zero at the start, so the first step is −√ε/√((1−γ)g² + ε) ∘ g.
 *
 * Order of the updates: the step uses the average of squared steps up to the previous step, then
 * that average absorbs the new step, as in Zeiler's Algorithm 1 (RMS[Δx]_{t−1}). The lecture writes
 * q with the subscript k in the step, one ahead of Zeiler's t−1; its own definition of the
 * displacement, Δw(k) = w(k) − w(k−1), makes it the same quantity, and this code follows Zeiler.
 *
 * α is not in Zeiler's method: it scales the applied step only, and q absorbs the unscaled Δw(k)
 * (as `torch.optim.Adadelta` does), so α = 1 is exactly the paper's and the lecture's method.
 *
 * `tf.train.adadelta` (tfjs 4.22) differs: its step divides by √(v(k−1) + ε), the average before
 * the current gradient was absorbed (the new average is stored but not used until the next step),
 * so its first step is α·g; ε defaults to the backend's 1e-7 and α is required (its examples use
 * 0.001). `torch.optim.Adadelta` (α = 1, γ = 0.9, ε = 1e-6) is the same as this code.
 *
 * This loop (double-precision intermediates) is the reference; `createOptimizer` runs
 * `adadeltaKernel`.
 */
export function adadeltaStep(
  params: Float32Array,
  grads: Float32Array,
  gradSquareAvg: Float32Array,
  deltaSquareAvg: Float32Array,
  lr: number,
  rho: number,
  eps: number,
): void {
  const keep = 1 - rho;
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i];
    const v = rho * gradSquareAvg[i] + keep * g * g;
    gradSquareAvg[i] = v;
    const q = deltaSquareAvg[i];
    // One square root of the ratio instead of two roots and a division: the step is bound by
    // sqrt/div throughput on large vectors.
    const delta = Math.sqrt((q + eps) / (v + eps)) * g;
    deltaSquareAvg[i] = rho * q + keep * delta * delta;
    params[i] -= lr * delta;
  }
}

/**
 * `adadeltaStep` in float32: v ← γv + (1−γ)g²; Δ = √((q + ε)/(v + ε))·g; q ← γq + (1−γ)Δ²;
 * w ← w − α·Δ (one root of the ratio, as the reference computes it).
 */
export const adadeltaKernel = defineKernel({
  name: 'adadelta',
  arrays: ['params', 'grads', 'gradSquareAvg', 'deltaSquareAvg'],
  scalars: ['lr', 'rho', 'keep', 'eps'],
  values: (_t: number, lr: number, config: AdadeltaHyperParameters) => ({
    lr,
    rho: config.rho,
    keep: 1 - config.rho,
    eps: config.eps,
  }),
  body: ({ params, grads, gradSquareAvg, deltaSquareAvg }, s) => {
    const g = grads.load();
    const v = flushSubnormal(add(mul(s.rho, gradSquareAvg.load()), mul(mul(s.keep, g), g)));
    const q = deltaSquareAvg.load();
    const delta = mul(sqrt(div(add(q, s.eps), add(v, s.eps))), g);
    return [
      gradSquareAvg.store(v),
      deltaSquareAvg.store(flushSubnormal(add(mul(s.rho, q), mul(mul(s.keep, delta), delta)))),
      params.store(sub(params.load(), mul(s.lr, delta))),
    ];
  },
});

export const adadelta: ElementwiseRule<AdadeltaHyperParameters> = {
  name: 'adadelta',
  defaults: { lr: 1, rho: 0.9, eps: 1e-6 },
  slots: () => ['gradSquareAvg', 'deltaSquareAvg'],
  kernel: () => adadeltaKernel,
  reference: (params, grads, slots, _t, lr, config) => adadeltaStep(params, grads, slots[0], slots[1], lr, config.rho, config.eps),
};
