import type { ElementwiseRule } from './elementwise-optimizer.js';

export interface SgdHyperParameters {
  /** Learning rate α. @default 0.01 */
  readonly lr: number;
}

/**
 * Gradient descent, the lecture's mini-batch rule: w(k+1) = w(k) − α∇J(w(k)).
 *
 * Same definition as `tf.train.sgd` and `torch.optim.SGD` without momentum. No slots.
 */
export function sgdStep(params: Float32Array, grads: Float32Array, lr: number): void {
  const n = params.length;
  for (let i = 0; i < n; i++) params[i] -= lr * grads[i];
}

export const sgd: ElementwiseRule<SgdHyperParameters> = {
  name: 'sgd',
  defaults: { lr: 0.01 },
  slots: () => [],
  update: (params, grads, _slots, _t, lr) => sgdStep(params, grads, lr),
};
