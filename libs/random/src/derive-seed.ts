/** MurmurHash3's 32-bit finalizer: a bijection on 32-bit integers with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for one purpose and one index (e.g. the epoch) of a run, depending only on its arguments:
 * `h = seed; for each key k: h = fmix32(h ^ fmix32(k + 0x9E3779B9))`, all mod 2³². The golden-ratio
 * offset keeps key 0 from mixing as the fixed point fmix32(0) = 0.
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = seed >>> 0;
  for (const key of keys) h = fmix32(h ^ fmix32((key + 0x9e3779b9) >>> 0));
  return h;
}
