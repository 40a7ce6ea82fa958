import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDataPlan, DataPlan } from './data-plan.js';
import type { DataPlanOptions, PlanStep } from './data-plan.js';
import { DataOptionError } from './data-error.js';

/** Plans whose batch is a whole number of micro-batches and fits the split. */
const planOptions = (minSamples = 1): fc.Arbitrary<DataPlanOptions> =>
  fc
    .record({
      numSamples: fc.integer({ min: minSamples, max: 400 }),
      microBatchSize: fc.integer({ min: 1, max: 8 }),
      microBatchesPerStep: fc.integer({ min: 1, max: 6 }),
      epochs: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer({ min: 0, max: 0xffffffff }),
    })
    .map(({ microBatchesPerStep, ...o }) => ({ ...o, batchSize: o.microBatchSize * microBatchesPerStep }))
    .filter((o) => o.batchSize <= o.numSamples);

const flat = (step: PlanStep): number[] => step.microBatches.flatMap((m) => [...m.indices]);

describe('createDataPlan', () => {
  it('cuts stored order into batches and micro-batches and drops the short tail (shuffle off)', () => {
    // 10 samples, batch 4 → ⌊10/4⌋ = 2 steps per epoch, samples 8 and 9 dropped; micro-batches of 2.
    const plan = createDataPlan({ numSamples: 10, batchSize: 4, microBatchSize: 2, epochs: 2, seed: 0, shuffle: false });
    expect([plan.stepsPerEpoch, plan.microBatchesPerStep, plan.totalSteps, plan.droppedPerEpoch]).toEqual([2, 2, 4, 2]);
    const step1 = plan.step(1);
    expect({ ...step1, microBatches: step1.microBatches.map((m) => ({ id: m.id, indices: [...m.indices] })) }).toEqual({
      step: 1,
      epoch: 0,
      stepInEpoch: 1,
      microBatches: [
        { id: 0, indices: [4, 5] },
        { id: 1, indices: [6, 7] },
      ],
    });
    // Step 2 opens epoch 1 at the start of the order again.
    expect(plan.step(2)).toMatchObject({ epoch: 1, stepInEpoch: 0 });
    expect(flat(plan.step(2))).toEqual([0, 1, 2, 3]);
  });

  it('keeps every sample at most once per epoch and exactly the first stepsPerEpoch × batchSize of the permutation', () => {
    fc.assert(
      fc.property(planOptions(), (options) => {
        const plan = createDataPlan(options);
        for (let epoch = 0; epoch < plan.epochs; epoch++) {
          const permutation = plan.permutation(epoch);
          expect([...permutation].sort((a, b) => a - b)).toEqual(Array.from({ length: options.numSamples }, (_, i) => i));
          const kept: number[] = [];
          for (let s = 0; s < plan.stepsPerEpoch; s++) kept.push(...flat(plan.step(epoch * plan.stepsPerEpoch + s)));
          expect(kept).toEqual([...permutation.subarray(0, plan.stepsPerEpoch * options.batchSize)]);
          expect(new Set(kept).size).toBe(kept.length);
          expect(options.numSamples - kept.length).toBe(plan.droppedPerEpoch);
          expect(plan.droppedPerEpoch).toBeLessThan(options.batchSize);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('splits each global batch into micro-batches in order, with ids 0..k−1 of equal size', () => {
    fc.assert(
      fc.property(planOptions(), (options) => {
        const plan = createDataPlan(options);
        for (const step of plan.steps()) {
          expect(step.microBatches.map((m) => m.id)).toEqual(Array.from({ length: options.batchSize / options.microBatchSize }, (_, i) => i));
          for (const m of step.microBatches) expect(m.indices.length).toBe(options.microBatchSize);
          const start = step.stepInEpoch * options.batchSize;
          expect(flat(step)).toEqual([...plan.permutation(step.epoch).subarray(start, start + options.batchSize)]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives the same plan for the same options, in any order of lookup, and step(t) equals the t-th step of iterating', () => {
    fc.assert(
      fc.property(planOptions(), fc.integer({ min: 0, max: 1000 }), (options, salt) => {
        const iterated = [...createDataPlan(options).steps()];
        // A second plan with a one-epoch cache, looked up in a scrambled order, as a restarted coordinator would.
        const lookup = new DataPlan({ ...options, cachedEpochs: 1 });
        const order = iterated.map((_, t) => t).sort((a, b) => ((a * 7919 + salt) % 101) - ((b * 7919 + salt) % 101));
        for (const t of order) {
          expect(lookup.step(t)).toEqual(iterated[t]);
          const id = (t + salt) % lookup.microBatchesPerStep;
          expect(lookup.microBatch(t, id)).toEqual(iterated[t].microBatches[id].indices);
        }
        expect([...lookup.steps(Math.floor(iterated.length / 2))]).toEqual(iterated.slice(Math.floor(iterated.length / 2)));
      }),
      { numRuns: 40 },
    );
  });

  it('draws a different permutation for each epoch and each seed', () => {
    fc.assert(
      fc.property(planOptions(20), (options) => {
        // With n ≥ 20 a repeat among n! ≥ 2.4·10¹⁸ orders is not a chance event.
        const plan = createDataPlan({ ...options, epochs: 4 });
        const orders = new Set([0, 1, 2, 3].map((e) => plan.permutation(e).join(',')));
        expect(orders.size).toBe(4);
        const other = createDataPlan({ ...options, epochs: 3, seed: (options.seed + 1) >>> 0 });
        expect(other.permutation(0)).not.toEqual(plan.permutation(0));
      }),
      { numRuns: 40 },
    );
  });

  it('hands out copies: mutating returned indices does not change the plan', () => {
    const plan = createDataPlan({ numSamples: 8, batchSize: 4, microBatchSize: 2, epochs: 1, seed: 3 });
    const before = flat(plan.step(0));
    plan.step(0).microBatches[0].indices.fill(99);
    plan.microBatch(0, 1).fill(99);
    plan.permutation(0).fill(99);
    expect(flat(plan.step(0))).toEqual(before);
  });

  it('pins the order of seed 42 so that a change to the shuffle cannot pass unnoticed', () => {
    // A different order silently changes every run and breaks resuming from older checkpoints; if
    // the algorithm must change, this pin changes with it, on purpose.
    const plan = createDataPlan({ numSamples: 10, batchSize: 5, microBatchSize: 5, epochs: 2, seed: 42 });
    expect([...plan.permutation(0)]).toEqual(PINNED_EPOCH0);
    expect([...plan.permutation(1)]).toEqual(PINNED_EPOCH1);
  });

  it('rejects options that cannot work, naming option and value', () => {
    const base = { numSamples: 100, batchSize: 8, microBatchSize: 2, epochs: 1, seed: 0 };
    const failure = (options: DataPlanOptions): DataOptionError => {
      try {
        createDataPlan(options);
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        return error as DataOptionError;
      }
      throw new Error('expected a DataOptionError');
    };
    const micro = failure({ ...base, microBatchSize: 3 });
    expect([micro.code, micro.option, micro.value]).toEqual(['E_PLAN_MICRO_BATCH', 'microBatchSize', 3]);
    expect(micro.message).toContain('does not divide batchSize 8');
    expect(micro.message).toContain('e.g. 2');
    const big = failure({ ...base, batchSize: 128, microBatchSize: 8 });
    expect([big.code, big.option, big.value]).toEqual(['E_DATA_OPTION', 'batchSize', 128]);
    expect(failure({ ...base, seed: -1 }).option).toBe('seed');
    expect(failure({ ...base, seed: 2 ** 32 }).option).toBe('seed');
    expect(failure({ ...base, epochs: 0 }).option).toBe('epochs');
    expect(failure({ ...base, batchSize: 2.5 }).option).toBe('batchSize');

    const plan = createDataPlan(base);
    expect(() => plan.step(plan.totalSteps)).toThrow(expect.objectContaining({ code: 'E_PLAN_STEP', value: 12 }));
    expect(() => plan.step(-1)).toThrow(expect.objectContaining({ code: 'E_PLAN_STEP' }));
    expect(() => plan.microBatch(0, 4)).toThrow(expect.objectContaining({ code: 'E_PLAN_STEP', option: 'id' }));
  });
});

const PINNED_EPOCH0 = [6, 8, 4, 9, 5, 7, 2, 3, 1, 0];
const PINNED_EPOCH1 = [0, 2, 6, 5, 1, 7, 9, 8, 3, 4];
