import type { JobConfig } from '@dptrain/config';
import { createDataPlan } from '@dptrain/data';

/**
 * What every process of a job must agree on, sent by the coordinator in `registered.config`: the
 * job config and the facts of the data set the model and the plan are built from, so a parameter
 * server never loads the data set.
 */
export interface JobDescription {
  readonly config: JobConfig;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Samples in the training split the plan shuffles. */
  readonly trainCount: number;
}

/** The plan's sizes, as the reference trainer computes them. */
export interface PlanSizes {
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly microBatchesPerStep: number;
}

export function planSizes(job: JobDescription): PlanSizes {
  const { config } = job;
  const plan = createDataPlan({ numSamples: job.trainCount, batchSize: config.batchSize, microBatchSize: config.microBatchSize, epochs: config.epochs, seed: config.seed });
  return {
    totalSteps: Math.min(plan.totalSteps, config.steps ?? Number.POSITIVE_INFINITY),
    stepsPerEpoch: plan.stepsPerEpoch,
    microBatchesPerStep: config.batchSize / config.microBatchSize,
  };
}

/**
 * Refuses settings the cluster cannot run with the reason (CLUSTER.md, "Shards").
 * @throws RangeError naming the setting, its value and the fix
 */
export function checkClusterConfig(config: JobConfig): void {
  if (config.psShards > 1 && config.clipNorm !== undefined) {
    throw new RangeError(`clipNorm ${config.clipNorm} needs the whole gradient at once, but psShards is ${config.psShards}; help: use --ps-shards 1 or drop --clip-norm`);
  }
  if (config.psShards > 1 && config.optimizer === 'lbfgs') {
    throw new RangeError(`optimizer lbfgs needs the whole vector at once, but psShards is ${config.psShards}; help: use --ps-shards 1`);
  }
  if (config.mode === 'async' && config.psShards > 1) {
    throw new RangeError(
      `mode async needs one parameter-server shard, but psShards is ${config.psShards}: each shard would judge staleness on its own version and could apply half of a micro-batch; help: use --ps-shards 1 with --mode async, or --mode sync`,
    );
  }
}
