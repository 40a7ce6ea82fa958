/** Shared by this folder's tests only: a tiny job, its facts and a calibration made for its model. */
import { modelOf } from '@dptrain/cluster';
import type { JobConfig } from '@dptrain/config';
import type { Calibration } from '@dptrain/simulator';
import { testCalibration } from '@dptrain/simulator/testing';
import { BaseJob } from '../common/job-options.js';
import type { JobFacts } from './validate.js';

/** A 3-8-2 MLP on generated data, micro-batches of 4, 6 steps. */
export function tinyJob(): BaseJob {
  return new BaseJob({ dataset: 'synthetic', model: 'mlp', hidden: '8', microBatchSize: '4', batchSize: '16', steps: '6', backupAfter: '0' }, {});
}

export const TINY_FACTS: JobFacts = { inputShape: [3], numClasses: 2, trainCount: () => 256 };

/** Round costs for the tiny job's model: 10 ms a micro-batch, cheap messages and shard work. */
export async function tinyCalibration(job: BaseJob): Promise<Calibration> {
  const config: JobConfig = await job.resolve();
  const model = modelOf({ config, inputShape: TINY_FACTS.inputShape, numClasses: TINY_FACTS.numClasses, trainCount: 256 });
  const paramCount = model.paramCount;
  model.dispose();
  return testCalibration(paramCount);
}
