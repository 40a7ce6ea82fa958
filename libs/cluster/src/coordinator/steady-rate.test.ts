import { describe, expect, it } from 'vitest';
import { steadyRate } from './steady-rate.js';

describe('steadyRate', () => {
  it('is the median of the rounds’ rates', () => {
    // 11 steps of 64 samples in 5 rounds of 2 (the 11th dropped). Round times: 20, 40, 10, 200, 25 ms
    // → rates 128·1000/ms = 6400, 3200, 12800, 640, 5120 samples/s; sorted 640, 3200, 5120, 6400, 12800.
    const stepMs = [10, 10, 20, 20, 5, 5, 100, 100, 12, 13, 999];
    expect(steadyRate(stepMs, 64)).toBe(5120);
  });

  it('averages the two middle rounds for an even count, and is NaN with fewer steps than rounds', () => {
    // Rounds of one step: 64·1000/ms = 6400 and 3200 → (3200 + 6400) / 2.
    expect(steadyRate([10, 20], 64, 2)).toBe(4800);
    expect(steadyRate([10, 20, 30, 40], 64)).toBeNaN();
  });
});
