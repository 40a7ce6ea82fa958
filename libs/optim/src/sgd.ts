import type { ElementwiseRule } from './elementwise-optimizer.js';
import { defineKernel, mul, sub } from './wasm/kernel.js';

export interface SgdHyperParameters {
  /** Learning rate α. @default 0.01 */
  readonly lr: number;
}

/**
 * Gradient descent, the lecture's mini-batch rule: w(k+1) = w(k) − α∇J(w(k)).
 *
 * Same definition as `tf.train.sgd` and `torch.optim.SGD` without momentum. No slots.
 *
 * This loop (double-precision intermediates) is the reference; `createOptimizer` runs `sgdKernel`.
 */
export function sgdStep(params: Float32Array, grads: Float32Array, lr: number): void {
  const n = params.length;
  for (let i = 0; i < n; i++) params[i] -= lr * grads[i];
}

/** `sgdStep` in float32: w ← w − α·g. */
export const sgdKernel = defineKernel({
  name: 'sgd',
  arrays: ['params', 'grads'],
  scalars: ['lr'],
  values: (_t: number, lr: number, _config: SgdHyperParameters) => ({ lr }),
  body: ({ params, grads }, { lr }) => [params.store(sub(params.load(), mul(lr, grads.load())))],
});

export const sgd: ElementwiseRule<SgdHyperParameters> = {
  name: 'sgd',
  defaults: { lr: 0.01 },
  slots: () => [],
  kernel: () => sgdKernel,
  reference: (params, grads, _slots, _t, lr) => sgdStep(params, grads, lr),
};
