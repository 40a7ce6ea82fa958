import { Mulberry32 } from '@dptrain/random';
import { describe, expect, it } from 'vitest';
import { FaultProxyError } from './errors.js';
import { mulberry32 } from './prng.js';

describe('mulberry32', () => {
  it("draws the shared generator's floats (its own tests check them against the reference C)", () => {
    const next = mulberry32(42);
    const reference = new Mulberry32(42);
    for (let i = 0; i < 100; i++) expect(next()).toBe(reference.nextFloat());
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
