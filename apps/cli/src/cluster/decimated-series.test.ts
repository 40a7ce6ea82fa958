import { describe, expect, it } from 'vitest';
import { DecimatedSeries } from './decimated-series.js';

describe('DecimatedSeries', () => {
  it('keeps every point up to its size', () => {
    const series = new DecimatedSeries<number>(8);
    expect([1, 2, 3].map((p) => series.add(p))).toEqual(['kept', 'kept', 'kept']);
    expect(series.points).toEqual([1, 2, 3]);
  });

  it('stays within its size over a long run, evenly spaced from the first point to the newest', () => {
    const series = new DecimatedSeries<number>(10);
    const outcomes = new Map<string, number>();
    for (let p = 0; p <= 1000; p++) {
      const outcome = series.add(p);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      expect(series.points.length).toBeLessThanOrEqual(10);
    }
    const points = series.points;
    expect(points[0]).toBe(0);
    const gaps = new Set(points.slice(1).map((p, i) => p - points[i]!));
    expect(gaps.size).toBe(1);
    // The newest point kept is less than one gap behind the last offered one.
    expect(1000 - points.at(-1)!).toBeLessThan([...gaps][0]!);
    expect(outcomes.get('thinned')).toBeGreaterThan(3);
  });

  it('refuses a size that cannot be halved evenly', () => {
    expect(() => new DecimatedSeries(7)).toThrow(/even number of points/);
  });
});
