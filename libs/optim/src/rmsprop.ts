import type { ElementwiseRule } from './elementwise-optimizer.js';
import { add, defineKernel, div, flushSubnormal, mul, sqrt, sub } from './wasm/kernel.js';

export interface RmspropHyperParameters {
  /** Learning rate α. @default 0.001 */
  readonly lr: number;
  /** Forgetting factor γ of the running average of squared gradients. @default 0.9 */
  readonly rho: number;
  /** ε inside the square root. @default 1e-8 */
  readonly eps: number;
  /** γ of the momentum term γ[w(k) − w(k−1)]; 0 turns it (and its slot) off. @default 0 */
  readonly momentum: number;
}

/**
 * RMSprop (Hinton's lecture 6e; Ruder, 2017), the step Adadelta starts from:
 *
 *   v(k) = ρ v(k−1) + (1−ρ) ∇J(w(k))²,   w(k+1) = w(k) − α/√(v(k) + ε) ∘ ∇J(w(k)) + γ[w(k) − w(k−1)]
 *
 * ρ = 0.9, α = 0.001, ε = 1e-8, γ = 0 by default. Slots, in order: `gradSquareAvg` (v), and
 * `delta` (the previous displacement, as in `momentumStep`) only when γ > 0.
 *
 * ε sits inside the root as in Ruder's formula and `tf.train.rmsprop` (whose ε defaults to the
 * backend's 1e-7, and whose momentum accumulator already includes α, so it is this displacement
 * form). `torch.optim.RMSprop` puts ε (1e-8) outside the root, √v + ε, defaults ρ (`alpha`) to
 * 0.99 and α to 0.01, and keeps a velocity without α. The centered variant (dividing by an
 * estimate of the variance instead of the second moment) is not offered.
 *
 * These loops (double-precision intermediates) are the reference; `createOptimizer` runs
 * `rmspropKernel` or `rmspropMomentumKernel`.
 */
export function rmspropStep(
  params: Float32Array,
  grads: Float32Array,
  gradSquareAvg: Float32Array,
  delta: Float32Array | null,
  lr: number,
  rho: number,
  eps: number,
  momentum: number,
): void {
  const keep = 1 - rho;
  const n = params.length;
  if (delta === null) {
    for (let i = 0; i < n; i++) {
      const g = grads[i];
      const v = rho * gradSquareAvg[i] + keep * g * g;
      gradSquareAvg[i] = v;
      params[i] -= (lr * g) / Math.sqrt(v + eps);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = grads[i];
    const v = rho * gradSquareAvg[i] + keep * g * g;
    gradSquareAvg[i] = v;
    const d = momentum * delta[i] - (lr * g) / Math.sqrt(v + eps);
    delta[i] = d;
    params[i] += d;
  }
}

const rmspropValues = (_t: number, lr: number, config: RmspropHyperParameters) => ({
  lr,
  rho: config.rho,
  keep: 1 - config.rho,
  eps: config.eps,
});

/** `rmspropStep` without momentum in float32: v ← ρv + (1−ρ)g²; w ← w − α·g/√(v + ε). */
export const rmspropKernel = defineKernel({
  name: 'rmsprop',
  arrays: ['params', 'grads', 'gradSquareAvg'],
  scalars: ['lr', 'rho', 'keep', 'eps'],
  values: rmspropValues,
  body: ({ params, grads, gradSquareAvg }, s) => {
    const g = grads.load();
    const v = flushSubnormal(add(mul(s.rho, gradSquareAvg.load()), mul(mul(s.keep, g), g)));
    return [gradSquareAvg.store(v), params.store(sub(params.load(), div(mul(s.lr, g), sqrt(add(v, s.eps)))))];
  },
});

/** `rmspropStep` with momentum γ in float32: v as above; d ← γ·d − α·g/√(v + ε); w ← w + d. */
export const rmspropMomentumKernel = defineKernel({
  name: 'rmspropMomentum',
  arrays: ['params', 'grads', 'gradSquareAvg', 'delta'],
  scalars: ['lr', 'rho', 'keep', 'eps', 'momentum'],
  values: (t: number, lr: number, config: RmspropHyperParameters) => ({
    ...rmspropValues(t, lr, config),
    momentum: config.momentum,
  }),
  body: ({ params, grads, gradSquareAvg, delta }, s) => {
    const g = grads.load();
    const v = flushSubnormal(add(mul(s.rho, gradSquareAvg.load()), mul(mul(s.keep, g), g)));
    const d = flushSubnormal(sub(mul(s.momentum, delta.load()), div(mul(s.lr, g), sqrt(add(v, s.eps)))));
    return [gradSquareAvg.store(v), delta.store(d), params.store(add(params.load(), d))];
  },
});

export const rmsprop: ElementwiseRule<RmspropHyperParameters> = {
  name: 'rmsprop',
  defaults: { lr: 0.001, rho: 0.9, eps: 1e-8, momentum: 0 },
  slots: (config) => (config.momentum > 0 ? ['gradSquareAvg', 'delta'] : ['gradSquareAvg']),
  kernel: (config) => (config.momentum > 0 ? rmspropMomentumKernel : rmspropKernel),
  reference: (params, grads, slots, _t, lr, config) =>
    rmspropStep(params, grads, slots[0], slots.length > 1 ? slots[1] : null, lr, config.rho, config.eps, config.momentum),
};
