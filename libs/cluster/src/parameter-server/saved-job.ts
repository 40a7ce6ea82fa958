import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@dptrain/safetensors';
import { parseJobDescription, type JobDescription } from '@dptrain/job';
import { withCode } from '@dptrain/errors';

/** A shard's saved job that cannot be resumed from; the message names the file and the fix. */
export class ResumeError extends withCode('E_RESUME') {}

const NAME = 'job.json';

/**
 * The job description beside a shard's checkpoints: a restarted shard reads it to restore before
 * it registers, so it can register at its restored version.
 */
export async function writeSavedJob(dir: string, job: JobDescription): Promise<void> {
  await writeFileAtomic(join(dir, NAME), `${JSON.stringify(job, null, 2)}\n`);
}

/**
 * @throws ResumeError naming the file and the fix when there is none (or it is not JSON)
 * @throws ConfigError when it holds no job this version can run
 */
export async function readSavedJob(dir: string): Promise<JobDescription> {
  const path = join(dir, NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ResumeError(
      `cannot resume: ${path} is missing (${(error as NodeJS.ErrnoException).code}); a shard writes it on its first start — give --checkpoint-dir the job's checkpoint directory (checkpointDir, default <out>/checkpoints)`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ResumeError(`cannot resume: ${path} is not JSON (${(error as Error).message}); restore it or start the job afresh without --resume`, {
      cause: error,
    });
  }
  return parseJobDescription(value, `the job saved in ${path}`);
}
