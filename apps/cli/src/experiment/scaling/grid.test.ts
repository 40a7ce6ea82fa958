import { describe, expect, it } from 'vitest';
import { scaleAgainstOneWorker } from './efficiency.js';
import { expandGrid, processCount } from './grid.js';
import { stalenessHistogram } from './staleness.js';

describe('expandGrid', () => {
  it('gives one cell per combination, workers varying fastest, ids naming every axis', () => {
    const cells = expandGrid({ workers: [1, 2], modes: ['sync', 'async'], psShards: [1], microBatchSizes: [16, 32] }, 8);
    expect(cells.map((c) => c.id)).toEqual([
      'sync-s1-mb16-w1',
      'sync-s1-mb16-w2',
      'sync-s1-mb32-w1',
      'sync-s1-mb32-w2',
      'async-s1-mb16-w1',
      'async-s1-mb16-w2',
      'async-s1-mb32-w1',
      'async-s1-mb32-w2',
    ]);
    expect(new Set(cells.map((c) => c.series)).size).toBe(4);
  });

  it('marks a cell oversubscribed when coordinator + shards + workers exceed the cores', () => {
    // 1 + 1 + 1 = 3 processes: fits 3 cores, not 2.
    expect(processCount(1, 1)).toBe(3);
    const on3 = expandGrid({ workers: [1, 2], modes: ['sync'], psShards: [1], microBatchSizes: [16] }, 3);
    expect(on3.map((c) => [c.processes, c.oversubscribed])).toEqual([
      [3, false],
      [4, true],
    ]);
    const on2 = expandGrid({ workers: [1], modes: ['sync'], psShards: [2], microBatchSizes: [16] }, 2);
    expect(on2[0]!.oversubscribed).toBe(true);
  });
});

describe('scaleAgainstOneWorker', () => {
  it('divides by the same series at one worker; efficiency is speedup per worker', () => {
    const scaled = scaleAgainstOneWorker([
      { series: 'a', workers: 1, samplesPerSecond: 100 },
      { series: 'a', workers: 4, samplesPerSecond: 300 },
      { series: 'b', workers: 1, samplesPerSecond: 50 },
      { series: 'b', workers: 2, samplesPerSecond: 100 },
    ]);
    // a×4: 300/100 = 3, 3/4 = 0.75, ideal 4 × 100; b×2: 2, 1, 100.
    expect(scaled[1]).toEqual({ speedup: 3, efficiency: 0.75, ideal: 400 });
    expect(scaled[3]).toEqual({ speedup: 2, efficiency: 1, ideal: 100 });
  });

  it('has no speedup without a one-worker run of the series, or for a failed run', () => {
    const scaled = scaleAgainstOneWorker([
      { series: 'a', workers: 2, samplesPerSecond: 100 },
      { series: 'b', workers: 1, samplesPerSecond: 50 },
      { series: 'b', workers: 2, samplesPerSecond: null },
    ]);
    expect(scaled[0]).toEqual({ speedup: null, efficiency: null, ideal: null });
    expect(scaled[2]).toEqual({ speedup: null, efficiency: null, ideal: 100 });
  });
});

describe('stalenessHistogram', () => {
  const shard = { shard: 0, length: 10, accepted: 3, duplicate: 1, stale: 0, rejected: 0, pulls: 2 };

  it("adds the shards' staleness histograms lag by lag; none in sync mode", () => {
    expect(
      stalenessHistogram([
        { ...shard, stalenessHistogram: [1, 2] },
        { ...shard, stalenessHistogram: [3, 0, 5] },
      ]),
    ).toEqual([4, 2, 5]);
    expect(stalenessHistogram([{ ...shard, stalenessHistogram: [] }, shard])).toBeNull();
  });
});
