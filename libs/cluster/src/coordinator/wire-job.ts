import type { JsonValue } from '@dptrain/protocol';
import type { JobDescription } from '@dptrain/job';

/**
 * The job as `registered.config` carries it to every shard and worker. One function, so that the
 * day the description gets a schema of its own the three registrations change in one place.
 */
export function jobOnWire(job: JobDescription): JsonValue {
  return job as unknown as JsonValue;
}
