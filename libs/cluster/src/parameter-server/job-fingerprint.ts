import { canonicalJson } from '@dptrain/safetensors';
import { createHash } from 'node:crypto';
import type { JobDescription } from '@dptrain/job';
import type { ShardRange } from '../shards.js';

/**
 * sha256 (hex) of the job description (config keys sorted), the shard index and its range: a
 * checkpoint or write-ahead log carries it, and a shard restores only from files with its own, so
 * files of another job, another shard or another sharding are never replayed into this one.
 */
export function jobFingerprint(job: JobDescription, shard: number, range: ShardRange): string {
  return createHash('sha256')
    .update(canonicalJson({ job, shard, offset: range.offset, length: range.length }))
    .digest('hex');
}
