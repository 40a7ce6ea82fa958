import { describe, expect, it } from 'vitest';
import { correlation, expectedSpread, perSecondMedians, quantile, steadiness, windowVariation } from './seconds.js';

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

describe('windowVariation', () => {
  const ms = (values: number[]) => values.map((v) => ({ ms: v }));

  it('averages each whole window of seconds and gives the windows means’ sd over their mean', () => {
    // Windows of 2: means 4, 6, 8 (the last second, a part window, is left out): sd 2, mean 6.
    const v = windowVariation(ms([3, 5, 6, 6, 7, 9, 100]), 2);
    expect(v?.windows).toBe(3);
    expect(v?.cv).toBeCloseTo(2 / 6, 12);
  });

  it('is 0 where second-to-second noise cancels within each window', () => {
    expect(windowVariation(ms([2, 6, 6, 2, 3, 5]), 2)?.cv).toBe(0);
    expect(windowVariation(ms([2, 6, 6, 2, 3, 5]), 1)!.cv).toBeGreaterThan(0.4);
  });

  it('says nothing with fewer than 3 windows, and refuses a window that is not a whole number of seconds', () => {
    expect(windowVariation(ms([1, 2, 3, 4, 5]), 2)).toBeUndefined();
    expect(() => windowVariation(ms([1, 2, 3]), 0.5)).toThrow(/whole number of seconds/);
  });
});

describe('expectedSpread', () => {
  it('matches the closed forms of the mean range of two and three normal samples, 2/√π and 3/√π', () => {
    expect(expectedSpread(0.1, 2)).toBeCloseTo((0.1 * 2) / Math.sqrt(Math.PI), 3);
    expect(expectedSpread(0.1, 3)).toBeCloseTo((0.1 * 3) / Math.sqrt(Math.PI), 3);
  });

  it('grows with the number of runs, and refuses a count it has no factor for', () => {
    expect(expectedSpread(0.1, 5)).toBeGreaterThan(expectedSpread(0.1, 4));
    expect(() => expectedSpread(0.1, 7)).toThrow(/2 to 5 runs/);
  });
});
