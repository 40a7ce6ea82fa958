import { sig } from '../common/table.js';

export interface BatchRun {
  /** e.g. `b256`: the run folder's name. */
  readonly id: string;
  readonly batchSize: number;
  /** The largest divisor of the batch up to 256: the unit of work, so memory stays bounded. */
  readonly microBatchSize: number;
  /** The linear scaling rule: baseLr × batch / baseBatch (Goyal et al., 2017). */
  readonly lr: number;
  /** Linear warm-up steps, only for batches above the base batch. */
  readonly warmupSteps: number;
  /** Optimizer steps of the run: the same number of epochs for every batch. */
  readonly steps: number;
}

export interface BatchPlanOptions {
  readonly batchSizes: readonly number[];
  readonly baseBatch: number;
  readonly baseLr: number;
  /** Fraction of a run's steps spent warming up when its batch exceeds the base batch. */
  readonly warmupFraction: number;
  readonly epochs: number;
  /** Training samples per epoch (after the holdout). */
  readonly trainSamples: number;
}

const MAX_MICRO_BATCH = 256;

export function microBatchFor(batch: number): number {
  for (let m = Math.min(batch, MAX_MICRO_BATCH); m > 1; m--) if (batch % m === 0) return m;
  return 1;
}

/** One run per batch size: rate by the linear scaling rule, warm-up above the base batch, equal epochs. */
export function planBatchRuns(options: BatchPlanOptions): BatchRun[] {
  return options.batchSizes.map((batchSize) => {
    const steps = options.epochs * Math.floor(options.trainSamples / batchSize);
    return {
      id: `b${batchSize}`,
      batchSize,
      microBatchSize: microBatchFor(batchSize),
      lr: sig((options.baseLr * batchSize) / options.baseBatch, 4),
      warmupSteps: batchSize > options.baseBatch ? Math.round(steps * options.warmupFraction) : 0,
      steps,
    };
  });
}

/** Training-set sizes of the data sets, before the holdout. */
const TRAIN_SET: Readonly<Record<string, number>> = { 'fashion-mnist': 60_000, mnist: 60_000, synthetic: 2_000 };

/** Samples left for training after holding out `holdout` of the training set (the data lib's rounding). */
export function trainSamplesOf(dataset: string, holdout: number): number {
  const total = TRAIN_SET[dataset];
  if (total === undefined) throw new RangeError(`no training-set size known for dataset ${dataset}; add it to TRAIN_SET in batch-size/plan.ts`);
  return total - Math.round(holdout * total);
}
