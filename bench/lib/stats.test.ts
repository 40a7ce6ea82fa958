import { describe, expect, it } from 'vitest';
import { median, windowRates } from './stats.js';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('averages the two middle values of an even count', () => {
    // sorted [1, 2, 10, 40]: (2 + 10) / 2 = 6
    expect(median([40, 2, 10, 1])).toBe(6);
  });

  it('refuses an empty list and non-finite values, naming them', () => {
    expect(() => median([])).toThrow(/empty list/);
    expect(() => median([1, Number.NaN])).toThrow(/NaN is not finite/);
  });
});

describe('windowRates', () => {
  it('cuts the timed steps into windows and reports their median', () => {
    // 6 steps of 64 items, 3 windows of 2 steps:
    //   steps 1–2: 0 → 200 ms:   128 items / 0.2 s = 640/s
    //   steps 3–4: 200 → 500 ms: 128 / 0.3 = 426.67/s
    //   steps 5–6: 500 → 800 ms: 128 / 0.3 = 426.67/s
    // median 426.67; overall 384 items / 0.8 s = 480/s
    const r = windowRates([0, 100, 200, 400, 500, 700, 800], 64, 3);
    expect(r.rates).toHaveLength(3);
    expect(r.rates[0]).toBeCloseTo(640, 9);
    expect(r.rates[1]).toBeCloseTo(1280 / 3, 9);
    expect(r.median).toBeCloseTo(1280 / 3, 9);
    expect(r.min).toBeCloseTo(1280 / 3, 9);
    expect(r.max).toBeCloseTo(640, 9);
    expect(r.overall).toBeCloseTo(480, 9);
  });

  it('gives the remainder steps to the last window', () => {
    // 5 steps of 10 items, 2 windows of ⌊5/2⌋ = 2 steps, the last one gets 3:
    //   steps 1–2: 1000 → 1100 ms: 20 / 0.1 = 200/s;  steps 3–5: 1100 → 1400 ms: 30 / 0.3 = 100/s
    const r = windowRates([1000, 1050, 1100, 1200, 1300, 1400], 10, 2);
    expect(r.rates[0]).toBeCloseTo(200, 9);
    expect(r.rates[1]).toBeCloseTo(100, 9);
    expect(r.median).toBeCloseTo(150, 9);
  });

  it('uses one window per step when there are fewer steps than windows', () => {
    // 2 steps, 5 windows asked: 2 windows; 8 items / 0.4 s = 20/s and 8 / 0.1 s = 80/s
    expect(windowRates([0, 400, 500], 8).rates.map((v) => Math.round(v))).toEqual([20, 80]);
  });

  it('refuses too few or backward timestamps', () => {
    expect(() => windowRates([5], 64)).toThrow(/at least 2 timestamps/);
    expect(() => windowRates([0, 10, 10], 64)).toThrow(/timestamp 2 \(10 ms\) is not after timestamp 1 \(10 ms\)/);
    expect(() => windowRates([0, 10], 0)).toThrow(/itemsPerStep must be a positive integer, got 0/);
  });
});
