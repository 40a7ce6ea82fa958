import { createModel, type Model } from '@dptrain/model';
import { modelConfigOf } from '@dptrain/training';
import type { JobDescription } from './job.js';

/** The job's model, built the same way in every process (and in the reference trainer). */
export function modelOf(job: JobDescription): Model {
  return createModel(modelConfigOf(job.config, job.inputShape, job.numClasses));
}
