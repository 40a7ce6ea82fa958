import type { ElementwiseRule } from './elementwise-optimizer.js';
import { add, defineKernel, div, mul, sqrt, sub } from './wasm/kernel.js';

export interface AdagradHyperParameters {
  /** Learning rate α; the lecture fixes it at 0.01. @default 0.01 */
  readonly lr: number;
  /** ε inside the square root. @default 1e-8 */
  readonly eps: number;
}

/**
 * Adagrad (Duchi et al., 2011) as the lecture writes it, a step of its own for every weight:
 *
 *   G_ii(k) = G_ii(k−1) + (∇J(w_i(k)))²,   w_i(k+1) = w_i(k) − α/√(G_ii(k) + ε) · ∇J(w_i(k)),
 *
 * α = 0.01, ε = 1e-8 by default. Slot `gradSquareSum` holds the diagonal of G, zero at the start.
 *
 * Conventions elsewhere: `tf.train.adagrad` starts G at `initialAccumulatorValue` 0.1 and uses the
 * backend's ε (1e-7 on cpu/wasm) inside the root: the same rule with G(0) = 0.1 and ε = 1e-7 (load a
 * state whose `gradSquareSum` is 0.1 to reproduce it). `torch.optim.Adagrad` starts G at 0 but puts
 * ε (1e-10) outside the root, α/(√G + ε), and can decay α.
 *
 * This loop (double-precision intermediates) is the reference; `createOptimizer` runs
 * `adagradKernel`.
 */
export function adagradStep(params: Float32Array, grads: Float32Array, gradSquareSum: Float32Array, lr: number, eps: number): void {
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i];
    const sum = gradSquareSum[i] + g * g;
    gradSquareSum[i] = sum;
    params[i] -= (lr * g) / Math.sqrt(sum + eps);
  }
}

/** `adagradStep` in float32: G ← G + g²; w ← w − α·g/√(G + ε). */
export const adagradKernel = defineKernel({
  name: 'adagrad',
  arrays: ['params', 'grads', 'gradSquareSum'],
  scalars: ['lr', 'eps'],
  values: (_t: number, lr: number, config: AdagradHyperParameters) => ({ lr, eps: config.eps }),
  body: ({ params, grads, gradSquareSum }, s) => {
    const g = grads.load();
    const sum = add(gradSquareSum.load(), mul(g, g));
    return [gradSquareSum.store(sum), params.store(sub(params.load(), div(mul(s.lr, g), sqrt(add(sum, s.eps)))))];
  },
});

export const adagrad: ElementwiseRule<AdagradHyperParameters> = {
  name: 'adagrad',
  defaults: { lr: 0.01, eps: 1e-8 },
  slots: () => ['gradSquareSum'],
  kernel: () => adagradKernel,
  reference: (params, grads, slots, _t, lr, config) => adagradStep(params, grads, slots[0], lr, config.eps),
};
