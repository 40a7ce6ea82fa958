import type { JsonValue } from '@dptrain/protocol';
import type { JobDescription } from '@dptrain/job';

/**
 * The job as `registered.config` carries it to every shard and worker, which check it with
 * `parseJobDescription` (@dptrain/job) before they build anything from it. A resolved job is plain
 * data (numbers, strings, arrays), so it is JSON as it stands.
 */
export function jobOnWire(job: JobDescription): JsonValue {
  return job as unknown as JsonValue;
}
