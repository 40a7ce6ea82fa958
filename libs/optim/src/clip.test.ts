import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, globalNorm } from './clip.js';
import { OptimError } from './optim-error.js';
import { bits, expectClose } from './test-support.js';

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm/‖g‖ when the norm is above maxNorm and returns the norm before clipping', () => {
    const g = Float32Array.of(3, 4); // ‖g‖ = 5
    expect(clipByGlobalNorm(g, 1)).toBe(5);
    expectClose(g, [0.6, 0.8]); // [3, 4]·1/5
  });

  it('takes the norm over all arrays together', () => {
    const a = Float32Array.of(3);
    const b = Float32Array.of(0, 4); // ‖(3, 0, 4)‖ = 5
    expect(globalNorm([a, b])).toBe(5);
    expect(clipByGlobalNorm([a, b], 2.5)).toBe(5);
    expectClose(a, [1.5]); // 3·2.5/5
    expectClose(b, [0, 2]); // 4·2.5/5
  });

  it('leaves the bits untouched at or below maxNorm', () => {
    const g = Float32Array.of(0.3, -0.4); // ‖g‖ = 0.5
    const before = bits(g.slice());
    expect(clipByGlobalNorm(g, 0.5)).toBeCloseTo(0.5, 7);
    expect(clipByGlobalNorm(g, 10)).toBeCloseTo(0.5, 7);
    expect(bits(g)).toEqual(before);
  });

  it('uses a norm computed elsewhere (parameter-server shards sum their squared norms)', () => {
    const shard = Float32Array.of(3); // the other shard holds 4: ‖g‖ = 5
    expect(clipByGlobalNorm(shard, 1, 5)).toBe(5);
    expectClose(shard, [0.6]);
  });

  it('refuses a non-finite norm without touching the gradients, and a bad maxNorm', () => {
    const g = Float32Array.of(1, Number.NaN);
    expect(() => clipByGlobalNorm(g, 1)).toThrow(OptimError);
    expect(() => clipByGlobalNorm(g, 1)).toThrow(/the gradient norm is NaN/);
    expect(g[0]).toBe(1);
    expect(() => clipByGlobalNorm(Float32Array.of(1), 0)).toThrow(/maxNorm must be a finite number > 0, got 0/);
    expect(() => clipByGlobalNorm(Float32Array.of(1), Number.POSITIVE_INFINITY)).toThrow(/got Infinity/);
  });

  it('property: the clipped norm is at most maxNorm and every element keeps its sign and ratio', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 64, noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (g, maxNorm) => {
          const before = g.slice();
          const norm = clipByGlobalNorm(g, maxNorm);
          expect(norm).toBe(globalNorm(before));
          expect(globalNorm(g)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
          const factor = norm > maxNorm ? maxNorm / norm : 1;
          for (let i = 0; i < g.length; i++) expect(g[i]).toBe(Math.fround(before[i] * factor));
        },
      ),
    );
  });
});
