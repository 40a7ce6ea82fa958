import { createModel, type Model } from '@dptrain/model';
import { modelConfigOf, type JobDescription } from '@dptrain/job';

/** The job's model, built the same way in every process (and in the reference trainer). */
export function modelOf(job: JobDescription): Model {
  return createModel(modelConfigOf(job.config, job.inputShape, job.numClasses));
}
