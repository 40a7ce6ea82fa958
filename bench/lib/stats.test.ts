import { describe, expect, it } from 'vitest';
import { median, roundRates } from './stats.js';

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

describe('roundRates', () => {
  it("gives each round's rate and their median", () => {
    // 3 rounds, 64 items per step:
    //   round 0: 2 steps, 0 → 200 ms:     128 items / 0.2 s = 640/s
    //   round 1: 2 steps, 1000 → 1300 ms: 128 / 0.3 = 426.67/s
    //   round 2: 1 step, 2000 → 2100 ms:  64 / 0.1 = 640/s
    // median 640; overall 320 items / 0.6 s = 533.33/s
    const r = roundRates(
      [
        [0, 100, 200],
        [1000, 1100, 1300],
        [2000, 2100],
      ],
      64,
    );
    expect(r.rates[0]).toBeCloseTo(640, 9);
    expect(r.rates[1]).toBeCloseTo(1280 / 3, 9);
    expect(r.rates[2]).toBeCloseTo(640, 9);
    expect(r.median).toBeCloseTo(640, 9);
    expect(r.min).toBeCloseTo(1280 / 3, 9);
    expect(r.max).toBeCloseTo(640, 9);
    expect(r.overall).toBeCloseTo(1600 / 3, 9);
  });

  it('ignores the time between rounds', () => {
    // 2 rounds of one 50 ms step of 10 items, an hour apart: 200/s each and overall
    const r = roundRates(
      [
        [0, 50],
        [3_600_000, 3_600_050],
      ],
      10,
    );
    expect(r.overall).toBeCloseTo(200, 9);
    expect(r.median).toBeCloseTo(200, 9);
  });

  it('refuses empty rounds, backward timestamps and bad counts, naming them', () => {
    expect(() => roundRates([], 64)).toThrow(/at least one timed round/);
    expect(() => roundRates([[0, 10], [5]], 64)).toThrow('round 1 has 1 timestamps; a round needs its start and at least one step end');
    expect(() => roundRates([[0, 10, 10]], 64)).toThrow(/round 0: timestamp 2 \(10 ms\) is not after timestamp 1 \(10 ms\)/);
    expect(() => roundRates([[0, 10]], 0)).toThrow(/itemsPerStep must be a positive integer, got 0/);
  });
});
