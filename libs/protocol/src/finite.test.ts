import { describe, expect, it } from 'vitest';
import { firstNonFinite } from './finite.js';

describe('firstNonFinite', () => {
  it('returns -1 for finite values, including the extremes of float32', () => {
    // 3.4028234663852886e38 is the largest float32, 1e-45 rounds to the smallest subnormal.
    expect(firstNonFinite(new Float32Array([0, -0, 1e-45, -3.4028234663852886e38, 3.4028234663852886e38]))).toBe(-1);
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
  });

  it('finds NaN, Infinity and -Infinity in every lane and in the tail', () => {
    // Length 11 = two blocks of four lanes plus a tail of three: cover each position.
    for (let at = 0; at < 11; at++) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const values = new Float32Array(11).fill(1.5);
        values[at] = bad;
        expect(firstNonFinite(values)).toBe(at);
      }
    }
  });

  it('reports the first of several', () => {
    const values = new Float32Array(100);
    values[70] = NaN;
    values[30] = -Infinity;
    expect(firstNonFinite(values)).toBe(30);
  });

  it('treats overflow to Infinity in float32 as non-finite', () => {
    // 1e39 exceeds the float32 range, so storing it yields Infinity.
    expect(firstNonFinite(new Float32Array([1, 1e39]))).toBe(1);
  });
});
