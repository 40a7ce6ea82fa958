import { OptimError, describe } from './optim-error.js';
import { dot } from './vector.js';

/** ‖g‖₂ over all arrays together, summed in double precision in array then index order. */
export function globalNorm(grads: Float32Array | readonly Float32Array[]): number {
  const list = grads instanceof Float32Array ? [grads] : grads;
  let sum = 0;
  for (const g of list) sum += dot(g, g);
  return Math.sqrt(sum);
}

/**
 * Global-norm gradient clipping (Pascanu et al., 2013), the usual answer to exploding gradients:
 * if ‖g‖₂ > maxNorm, every element is multiplied by maxNorm/‖g‖₂, so the direction is kept and the
 * length becomes maxNorm; otherwise nothing is touched. The norm is taken over all arrays together
 * (like `tf.clipByGlobalNorm`; PyTorch's `clip_grad_norm_` also adds 1e-6 to the norm, this does not).
 *
 * A parameter-server shard holds only part of g: sum `globalNorm(slice)²` over the shards and pass
 * the square root as `norm`, so every shard scales by the same factor.
 *
 * @param norm ‖g‖₂ when already known. @default globalNorm(grads)
 * @returns the norm before clipping (to log it).
 * @throws {OptimError} E_OPTIM_HYPERPARAMETER if maxNorm is not finite and > 0; E_OPTIM_NON_FINITE if
 *   the norm is NaN or infinite (the gradients are left untouched).
 */
export function clipByGlobalNorm(grads: Float32Array | readonly Float32Array[], maxNorm: number, norm: number = globalNorm(grads)): number {
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new OptimError(
      'E_OPTIM_HYPERPARAMETER',
      'maxNorm',
      maxNorm,
      `clipByGlobalNorm: maxNorm must be a finite number > 0, got ${describe(maxNorm)}. help: pick a threshold near the gradient norms of a healthy run (they are returned by this function), e.g. 1 or 5.`,
    );
  }
  if (!Number.isFinite(norm)) {
    throw new OptimError(
      'E_OPTIM_NON_FINITE',
      'norm',
      norm,
      `clipByGlobalNorm: the gradient norm is ${norm}, so no scaling can bound it. help: a gradient holds NaN or ±Infinity; lower the learning rate or find the overflowing layer before clipping.`,
    );
  }
  if (norm > maxNorm) {
    const factor = maxNorm / norm;
    for (const g of grads instanceof Float32Array ? [grads] : grads) {
      const n = g.length;
      for (let i = 0; i < n; i++) g[i] *= factor;
    }
  }
  return norm;
}
