import { describe, expect, it } from 'vitest';
import {
  countTicks,
  divergedAt,
  EXPLODED,
  fittedDomain,
  listedTicks,
  logTicks,
  MAX_LISTED_TICKS,
  MAX_ROUND_TICKS,
  naturalOrder,
  PALETTE,
  scaleTypeOf,
  seriesColours,
  seriesGroups,
} from './plot-rules.js';

describe('naturalOrder', () => {
  it('orders the numbers inside labels as numbers, each label once', () => {
    expect(naturalOrder(['batch 1024', 'batch 16', 'batch 256', 'batch 4096', 'batch 54000', 'batch 64', 'batch 16'])).toEqual([
      'batch 16',
      'batch 64',
      'batch 256',
      'batch 1024',
      'batch 4096',
      'batch 54000',
    ]);
    expect(naturalOrder(['step 600', 'step 1', 'step 100', 'step 10'])).toEqual(['step 1', 'step 10', 'step 100', 'step 600']);
    expect(naturalOrder(['sgd (lr 0.3)', 'adam (lr 0.003)', 'Adagrad'])).toEqual(['Adagrad', 'adam (lr 0.003)', 'sgd (lr 0.3)']);
  });
});

describe('colours', () => {
  it('gives each series its own colour, and has no colour twice', () => {
    expect(new Set(PALETTE).size).toBe(PALETTE.length);
    const series = Array.from({ length: PALETTE.length }, (_, i) => `run ${i}`);
    expect(new Set(seriesColours(series)).size).toBe(series.length);
    expect(() => seriesColours([...series, 'one more'])).toThrow(/split them with seriesGroups/);
  });

  it('splits more series than colours into even groups that each fit the palette', () => {
    const series = Array.from({ length: 2 * PALETTE.length + 1 }, (_, i) => `run ${i}`);
    const groups = seriesGroups(series);
    expect(groups).toHaveLength(3);
    expect(groups.flat()).toEqual(series);
    expect(groups.every((g) => g.length <= PALETTE.length && g.length >= Math.floor(series.length / 3))).toBe(true);
    expect(seriesGroups(['a', 'b'])).toEqual([['a', 'b']]);
  });
});

describe('scaleTypeOf', () => {
  it('chooses log only when positive values span a decade or more', () => {
    expect(scaleTypeOf([0.3, 0.45], 'auto')).toBe('linear');
    expect(scaleTypeOf([0.25, 2.5], 'auto')).toBe('log');
    expect(scaleTypeOf([0, 2.5], 'auto')).toBe('linear');
    expect(scaleTypeOf([0.3, 0.45], 'log')).toBe('log');
    expect(scaleTypeOf([1, 1e6], 'linear')).toBe('linear');
  });
});

describe('fittedDomain', () => {
  it('fits the data without forcing zero in, and on a log scale stays within the decade of the data', () => {
    const [low, high] = fittedDomain([0.3, 0.45], 'linear');
    expect(low).toBeGreaterThan(0.25);
    expect(high).toBeLessThan(0.5);
    const [logLow, logHigh] = fittedDomain([0.31, 0.44], 'log');
    expect(logLow).toBeGreaterThan(0.29);
    expect(logHigh).toBeLessThan(0.47);
  });

  it('does not pad below zero values that are never negative', () => {
    expect(fittedDomain([100, 6400], 'linear')[0]).toBe(0);
    expect(fittedDomain([-1, 1], 'linear')[0]).toBeLessThan(-1);
  });

  it('lets reference lines widen the domain by at most half the measured span', () => {
    const [, high] = fittedDomain([3000, 5000], 'linear', 0, [4000, 8000, 16000]);
    expect(high).toBe(6000);
    expect(fittedDomain([3000, 5000], 'linear', 0, [4500])).toEqual([3000, 5000]);
  });

  it('gives one value a band around it', () => {
    const [low, high] = fittedDomain([0.01, 0.01], 'linear');
    expect(low).toBeLessThan(0.01);
    expect(high).toBeGreaterThan(0.01);
  });
});

describe('ticks', () => {
  it('lists few counts at their own values and never a fraction', () => {
    expect(listedTicks([1, 2, 4, 2])).toEqual([1, 2, 4]);
    expect(countTicks([1, 2, 3], [0.9, 3.1])).toEqual([1, 2, 3]);
    const many = Array.from({ length: MAX_LISTED_TICKS + 1 }, (_, i) => i + 1);
    expect(listedTicks(many)).toBeUndefined();
  });

  it('puts many counts at round integer steps, at most MAX_ROUND_TICKS', () => {
    const steps = Array.from({ length: 600 }, (_, i) => i + 1);
    const ticks = countTicks(steps, [1, 600]);
    expect(ticks).toEqual([100, 200, 300, 400, 500, 600]);
    const layers = countTicks(
      Array.from({ length: 18 }, (_, i) => i),
      [-0.7, 17.7],
    );
    expect(layers).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    for (const t of [...ticks, ...layers]) expect(Number.isInteger(t)).toBe(true);
    expect(layers.length).toBeLessThanOrEqual(MAX_ROUND_TICKS);
  });

  it('keeps log ticks within the domain and few: decades over a wide span, 1-2-5 over a narrower one', () => {
    expect(logTicks([1e-5, 1.2])).toEqual([1e-5, 1e-4, 1e-3, 0.01, 0.1, 1]);
    expect(logTicks([0.2, 4])).toEqual([0.2, 0.3, 0.5, 1, 2, 3]);
    expect(logTicks([0.08, 1])).toEqual([0.1, 0.2, 0.3, 0.5, 1]);
    expect(logTicks([0.01, 2])).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]);
  });
});

describe('divergedAt', () => {
  it('is the first non-finite value', () => {
    expect(divergedAt([2.3, 1.9, null, 1], false)).toBe(2);
    expect(divergedAt([2.3, 1.9, Number.NaN], false)).toBe(2);
    expect(divergedAt([2.3, 1.9, 1.2], false)).toBeNull();
  });

  it('with exploding, is the start of the last stretch above EXPLODED × the first value, if the series ends there', () => {
    const start = 2.3;
    const high = EXPLODED * start * 2;
    expect(divergedAt([start, 2, 1.7, high, high * 1e10, high * 1e20], true)).toBe(3);
    expect(divergedAt([start, high, 1, high, null], true)).toBe(3);
    // A spike it recovers from is not divergence.
    expect(divergedAt([start, high, 1, 0.5], true)).toBeNull();
    expect(divergedAt([start, high, 1, 0.5], false)).toBeNull();
  });
});
