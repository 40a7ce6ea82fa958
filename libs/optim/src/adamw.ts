import { adamKernel, adamStep } from './adam.js';
import type { AdamHyperParameters } from './adam.js';
import type { ElementwiseRule } from './elementwise-optimizer.js';

export interface AdamwHyperParameters extends AdamHyperParameters {
  /** Decoupled weight decay λ. @default 0.01 */
  readonly weightDecay: number;
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with the weight decay taken out of the gradient and
 * applied with the step,
 *
 *   w(k+1) = w(k) − α·λ·w(k) − α/(√v̂(k) + ε) · m̂(k),
 *
 * m̂ and v̂ as in `adam` (same slots `m`, `v`), λ = 0.01 and the Adam defaults otherwise. Unlike an
 * L2 term added to the gradient, the decay is not rescaled by 1/√v̂. Same as `torch.optim.AdamW`
 * (which multiplies w by 1 − α·λ before the Adam step); tfjs has no AdamW. It runs Adam's kernel.
 */
export const adamw: ElementwiseRule<AdamwHyperParameters> = {
  name: 'adamw',
  defaults: { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
  slots: () => ['m', 'v'],
  kernel: () => adamKernel,
  reference: (params, grads, slots, t, lr, config) =>
    adamStep(params, grads, slots[0], slots[1], t, lr, config.beta1, config.beta2, config.eps, config.weightDecay),
};
