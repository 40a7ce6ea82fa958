import { describe, expect, it } from 'vitest';
import { FaultProxyError } from './errors.js';
import { mulberry32 } from './prng.js';

/**
 * An independent oracle: mulberry32 written with BigInt arithmetic modulo 2^32 instead of
 * Math.imul and >>> coercions, straight from the reference C:
 *   z = (a += 0x6D2B79F5); z = (z ^ z >> 15) * (z | 1); z ^= z + (z ^ z >> 7) * (z | 61); return z ^ z >> 14;
 */
function oracle(seed: number): () => number {
  const M = 2n ** 32n;
  let a = BigInt(seed);
  return () => {
    a = (a + 0x6d2b79f5n) % M;
    let z = a;
    z = ((z ^ (z >> 15n)) * (z | 1n)) % M;
    z = (z ^ ((z + ((z ^ (z >> 7n)) * (z | 61n))) % M)) % M;
    return Number(z ^ (z >> 14n)) / 2 ** 32;
  };
}

describe('mulberry32', () => {
  it('matches a BigInt transcription of the reference C for 1,000 draws from several seeds', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef, 0xffffffff]) {
      const a = mulberry32(seed);
      const b = oracle(seed);
      for (let i = 0; i < 1000; i++) expect(a()).toBe(b());
    }
  });

  it('stays in [0, 1) with a mean near 1/2 over 100,000 draws', () => {
    const next = mulberry32(7);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    // Standard error of the mean of U(0,1) over n draws: sqrt(1/12/n) ≈ 0.00091; 5σ bound.
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.0046);
  });

  it('refuses seeds that are not 32-bit unsigned integers, naming the value', () => {
    expect(() => mulberry32(-1)).toThrow(/seed -1 is not an integer in 0\.\.4294967295/);
    expect(() => mulberry32(1.5)).toThrow(RangeError);
    expect(() => mulberry32(2 ** 32)).toThrow(/4294967296/);
    expect(new FaultProxyError('E_SCHEDULE', 'x').message).toBe('E_SCHEDULE: x');
  });
});
