import { Mulberry32 } from '@dptrain/random';

/**
 * Shuffles `values` in place with the Fisher–Yates algorithm (Durstenfeld's form): for i from
 * n−1 down to 1, swap element i with element j = rng.nextBelow(i + 1). Every permutation is equally
 * likely given uniform draws; exactly n−1 draws are consumed (plus rare rejections).
 */
export function shuffleInPlace(values: Uint32Array, rng: Mulberry32): Uint32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const held = values[i];
    values[i] = values[j];
    values[j] = held;
  }
  return values;
}

/** The permutation of 0..n−1 that Fisher–Yates produces from a mulberry32 stream seeded with `seed`. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const values = new Uint32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  return shuffleInPlace(values, new Mulberry32(seed));
}
