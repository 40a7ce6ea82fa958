import type { JobConfig } from '@dptrain/config';
import { createDataPlan, type DataPlan } from '@dptrain/data';

/** The job's data plan over a training split of `trainCount` samples: the same in every process. */
export function planOf(config: JobConfig, trainCount: number): DataPlan {
  return createDataPlan({
    numSamples: trainCount,
    batchSize: config.batchSize,
    microBatchSize: config.microBatchSize,
    epochs: config.epochs,
    seed: config.seed,
  });
}

/** The plan's sizes, as the reference trainer computes them. */
export interface PlanSizes {
  /** The plan's steps, cut to `steps` when the job sets it. */
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly microBatchesPerStep: number;
}

export function planSizes(job: { readonly config: JobConfig; readonly trainCount: number }): PlanSizes {
  const { config } = job;
  const plan = planOf(config, job.trainCount);
  return {
    totalSteps: Math.min(plan.totalSteps, config.steps ?? Number.POSITIVE_INFINITY),
    stepsPerEpoch: plan.stepsPerEpoch,
    microBatchesPerStep: plan.microBatchesPerStep,
  };
}
