import { describe, expect, it } from 'vitest';
import { microBatchFor, planBatchRuns, trainSamplesOf } from './plan.js';

describe('planBatchRuns', () => {
  it('scales the rate linearly with the batch and warms up only above the base batch', () => {
    const runs = planBatchRuns({ batchSizes: [16, 64, 1024], baseBatch: 64, baseLr: 0.01, warmupFraction: 0.1, epochs: 2, trainSamples: 54_000 });
    expect(runs.map((r) => r.lr)).toEqual([0.0025, 0.01, 0.16]);
    // 1024: 2 × floor(54000 / 1024) = 104 steps, 10% of them warming up.
    expect(runs.map((r) => [r.steps, r.warmupSteps])).toEqual([
      [6750, 0],
      [1686, 0],
      [104, 10],
    ]);
  });

  it('uses the largest divisor of the batch up to 256 as the micro-batch', () => {
    expect([microBatchFor(16), microBatchFor(1024), microBatchFor(54_000), microBatchFor(257)]).toEqual([16, 256, 250, 1]);
  });

  it('knows the training-set size after the holdout, and refuses an unknown data set', () => {
    expect(trainSamplesOf('fashion-mnist', 0.1)).toBe(54_000);
    expect(trainSamplesOf('synthetic', 0)).toBe(2_000);
    expect(() => trainSamplesOf('cifar', 0)).toThrow(/no training-set size known for dataset cifar/);
  });
});
