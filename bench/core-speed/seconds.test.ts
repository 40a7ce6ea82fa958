import { describe, expect, it } from 'vitest';
import { correlation, perSecondMedians, quantile, steadiness } from './seconds.js';

describe('perSecondMedians', () => {
  it('takes the median of the calls of each whole second, in order, skipping empty seconds', () => {
    const timings = [
      { atS: 2.1, ms: 9 },
      { atS: 0.2, ms: 5 },
      { atS: 0.9, ms: 7 },
      { atS: 0.5, ms: 6 },
      { atS: 2.7, ms: 11 },
    ];
    expect(perSecondMedians(timings)).toEqual([
      { second: 0, ms: 6 },
      { second: 2, ms: 10 },
    ]);
  });
});

describe('steadiness', () => {
  it('reports the spread of the seconds and the share of slow ones', () => {
    // Eight seconds at 4 ms, two at 6 ms (50% slower than the fast ones).
    const s = steadiness([4, 4, 6, 4, 4, 4, 6, 4, 4, 4].map((ms) => ({ ms })));
    expect(s).toMatchObject({ seconds: 10, medianMs: 4, p10Ms: 4, p90Ms: 6, slowShare: 0.2 });
    expect(s.swing).toBeCloseTo(1.5, 12);
  });

  it('counts slow seconds against the fast ones, so that a core slow most of the time shows it', () => {
    const s = steadiness([6, 6, 6, 4, 6, 6, 4, 6, 6, 6].map((ms) => ({ ms })));
    expect(s.medianMs).toBe(6);
    expect(s.slowShare).toBe(0.8);
  });

  it('refuses an empty measurement', () => {
    expect(() => quantile([], 0.5)).toThrow(/time at least one second/);
  });
});

describe('correlation', () => {
  const seconds = (ms: number[]) => ms.map((v, second) => ({ second, ms: v }));

  it('is 1 when two cores slow together and −1 when one slows as the other speeds up', () => {
    expect(correlation(seconds([4, 6, 4, 7]), seconds([8, 12, 8, 14]))).toBeCloseTo(1, 12);
    expect(correlation(seconds([4, 6, 4, 6]), seconds([6, 4, 6, 4]))).toBeCloseTo(-1, 12);
  });

  it('pairs only the seconds both cores have, and says nothing without three of them or without movement', () => {
    expect(
      correlation(seconds([4, 6, 4, 6]), [
        { second: 1, ms: 5 },
        { second: 3, ms: 5 },
      ]),
    ).toBeUndefined();
    expect(correlation(seconds([4, 4, 4]), seconds([1, 2, 3]))).toBeUndefined();
    const gappy = [0, 1, 3].map((second) => ({ second, ms: [4, 6, 0, 5][second]! }));
    expect(correlation(gappy, seconds([4, 6, 99, 5]))).toBeCloseTo(1, 12);
  });
});
