// Helpers for this package's tests only; index.ts does not export them.
import { Mulberry32 } from '@dptrain/random';
import { expect } from 'vitest';
import type { OptimizerConfig } from './types.js';

/** A seeded generator uniform in [0, 1): the project's mulberry32. */
export function seededRandom(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.nextFloat();
}

/**
 * Asserts |actual_i − expected_i| ≤ rel·|expected_i| + abs for every i, reporting the first
 * element that misses. The defaults allow float32 rounding of a few operations.
 */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], { rel = 1e-6, abs = 1e-9 }: { rel?: number; abs?: number } = {}): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= rel * Math.abs(expected[i]) + abs)) {
      expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]} (error ${error})`);
    }
  }
}

/** max_i |a_i − b_i| / |b_i|. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return max;
}

/** The raw bits of a Float32Array, for bit-for-bit comparisons. */
export function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** Runs `opt` over a fixed gradient sequence and returns the parameters after each step. */
export function trajectory(
  opt: { step(params: Float32Array, grads: Float32Array): void },
  start: readonly number[],
  grads: readonly (readonly number[])[],
): Float32Array[] {
  const params = Float32Array.from(start);
  return grads.map((g) => {
    opt.step(params, Float32Array.from(g));
    return params.slice();
  });
}

/** Every element-wise optimizer (and RMSprop with momentum) with a learning rate that keeps a small quadratic moving. */
export const ELEMENTWISE_CONFIGS: readonly OptimizerConfig[] = [
  { name: 'sgd', lr: 0.1 },
  { name: 'momentum', lr: 0.05 },
  { name: 'nesterov', lr: 0.05 },
  { name: 'adagrad', lr: 0.1 },
  { name: 'adadelta' },
  { name: 'rmsprop', lr: 0.01 },
  { name: 'rmsprop', lr: 0.01, momentum: 0.8 },
  { name: 'adam', lr: 0.01 },
  { name: 'adamw', lr: 0.01, weightDecay: 0.1 },
];
