import { describe, expect, it } from 'vitest';
import { extent, niceTicks, pathOf } from './chart.js';

describe('the page’s chart helpers', () => {
  it('put ticks on round values 1, 2 or 5 × 10ⁿ apart, inside the range', () => {
    expect(niceTicks(0, 2.4, 4)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(13, 987, 5)).toEqual([200, 400, 600, 800]);
    expect(niceTicks(-3.2, -0.1, 3)).toEqual([-3, -2, -1]);
    expect(niceTicks(0.951, 1, 4)).toEqual([0.96, 0.97, 0.98, 0.99, 1]);
    expect(niceTicks(5, 5, 4)).toEqual([5]);
  });

  it('take the range of the finite values only', () => {
    expect(extent([3, null, Number.NaN, -1, Number.POSITIVE_INFINITY, 2])).toEqual([-1, 3]);
    expect(extent([null, Number.NaN])).toBeUndefined();
  });

  it('break a line where a value is missing (a non-finite loss)', () => {
    const points = [
      { x: 0, y: 1 },
      { x: 1, y: 2 },
      { x: 2, y: null },
      { x: 3, y: Number.NaN },
      { x: 4, y: 3 },
    ];
    expect(
      pathOf(
        points,
        (x) => x * 10,
        (y) => 100 - y,
      ),
    ).toBe('M0.0 99.0L10.0 98.0M40.0 97.0');
  });
});
