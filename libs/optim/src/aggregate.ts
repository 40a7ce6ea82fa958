import { checkVector } from './check-arrays.js';
import { OptimError } from './optim-error.js';

/**
 * Gradient aggregation shared by the single-process trainer and the parameter server, so that both
 * produce the same bits: the mean of the micro-batch gradients g_0 … g_{M−1} (each itself the mean
 * over its micro-batch) is
 *
 *   acc = 0;  acc += g_0;  acc += g_1;  …;  acc += g_{M−1}   (in micro-batch order, float32 sums)
 *   acc *= 1/M
 *
 * Float32 addition is not associative: another order may give other bits, which is why the order is
 * part of the contract. `meanInOrder` is the whole recipe; `accumulate` and `scale` are its two
 * steps for a server that adds pushes as they become due.
 */

/** acc[i] ← acc[i] + g[i] (rounded to float32, exactly as a float32 addition). */
export function accumulate(acc: Float32Array, g: Float32Array): void {
  checkVector('accumulate', 'g', g, acc.length);
  const n = acc.length;
  for (let i = 0; i < n; i++) acc[i] += g[i];
}

/** x[i] ← x[i]·factor, rounded to float32. `scale(acc, 1 / M)` finishes a mean of M gradients. */
export function scale(x: Float32Array, factor: number): void {
  if (factor === 1) return;
  const n = x.length;
  for (let i = 0; i < n; i++) x[i] *= factor;
}

/**
 * out[i] ← (0 + g[i])·factor: `out.fill(0)`, `accumulate(out, g)` and `scale(out, factor)` in one
 * pass, with the same bits (0 + g is exact and turns −0 into +0, as adding g to a zeroed sum does).
 * A parameter server that receives a whole step already summed uses it to save two passes.
 */
export function scaleFromZero(out: Float32Array, g: Float32Array, factor: number): void {
  checkVector('scaleFromZero', 'g', g, out.length);
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = (0 + g[i]) * factor;
}

/**
 * The mean of `grads` (micro-batch gradients in micro-batch order), written into `out`:
 * zero, `accumulate` each in order, `scale` by 1/M.
 * @returns `out`.
 * @throws {OptimError} E_OPTIM_LENGTH if `grads` is empty or an array's length differs from `out`'s.
 */
export function meanInOrder(grads: readonly Float32Array[], out: Float32Array): Float32Array {
  if (grads.length === 0) {
    throw new OptimError(
      'E_OPTIM_LENGTH',
      'grads',
      0,
      'meanInOrder: grads is empty, and the mean of no gradients is undefined. help: pass the gradients of every micro-batch of the step (at least one).',
    );
  }
  out.fill(0);
  for (const g of grads) accumulate(out, g);
  scale(out, 1 / grads.length);
  return out;
}
