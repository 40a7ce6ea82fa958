import { Mulberry32 } from '@dptrain/random';

/**
 * The project's mulberry32 generator (@dptrain/random) as a function, with the seed checked.
 * Every fault decision of a proxy draws from one such generator, so a seed and the order of frames fix the whole schedule; print the
 * seed with any failure to replay it. Not for cryptography.
 *
 * @returns a function giving floats uniform in [0, 1), 2^-32 apart
 * @throws RangeError when `seed` is not an integer in 0..2^32-1
 * @example
 * const next = mulberry32(42);
 * next(); // 0.6011037519201636 on every platform
 */
export function mulberry32(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`seed ${seed} is not an integer in 0..4294967295; give a 32-bit unsigned seed (print it to replay a run)`);
  }
  const rng = new Mulberry32(seed);
  return () => rng.nextFloat();
}

/** A fresh seed for runs that did not fix one (printed by the caller so the run can be replayed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4_294_967_296);
}
