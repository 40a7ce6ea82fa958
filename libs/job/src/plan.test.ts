import { parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { planOf, planSizes } from './plan.js';

describe('planSizes', () => {
  it('counts whole batches per epoch, micro-batches per step, and cuts the run at steps', () => {
    const config = parseConfig({ batchSize: 64, microBatchSize: 16, epochs: 3, out: 'x' });
    expect(planSizes({ config, trainCount: 1000 })).toEqual({ totalSteps: 45, stepsPerEpoch: 15, microBatchesPerStep: 4 });
    expect(planSizes({ config: { ...config, steps: 20 }, trainCount: 1000 }).totalSteps).toBe(20);
    expect(planSizes({ config: { ...config, steps: 90 }, trainCount: 1000 }).totalSteps).toBe(45);
  });

  it("plans from the job's seed: another seed shuffles otherwise", () => {
    const config = parseConfig({ batchSize: 8, microBatchSize: 4, out: 'x' });
    const first = (seed: number): number[] => Array.from(planOf({ ...config, seed }, 100).step(0).microBatches[0]!.indices);
    expect(first(1)).toEqual(first(1));
    expect(first(2)).not.toEqual(first(1));
  });
});
