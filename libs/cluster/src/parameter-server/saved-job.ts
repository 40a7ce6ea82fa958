import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@dptrain/safetensors';
import type { JobDescription } from '@dptrain/job';

const NAME = 'job.json';

/**
 * The job description beside a shard's checkpoints: a restarted shard reads it to restore before
 * it registers, so it can register at its restored version.
 */
export async function writeSavedJob(dir: string, job: JobDescription): Promise<void> {
  await writeFileAtomic(join(dir, NAME), `${JSON.stringify(job, null, 2)}\n`);
}

/**
 * @throws Error naming the file and the fix when there is none (or it is not JSON)
 */
export async function readSavedJob(dir: string): Promise<JobDescription> {
  const path = join(dir, NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot resume: ${path} is missing (${(error as NodeJS.ErrnoException).code}); a shard writes it on its first start — give --checkpoint-dir the job's checkpoint directory (checkpointDir, default <out>/checkpoints)`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as JobDescription;
  } catch (error) {
    throw new Error(`cannot resume: ${path} is not JSON (${(error as Error).message}); restore it or start the job afresh without --resume`, { cause: error });
  }
}
