import type { Logger, Spans } from '@dptrain/log';
import type { JobDescription } from '@dptrain/job';
import { writeSavedJob } from './saved-job.js';
import { ShardDurability, type DurabilityOptions } from './shard-durability.js';
import type { ShardState } from './shard-state.js';
import type { ShardUpdates } from './shard-updates.js';

export interface DurableShard {
  readonly job: JobDescription;
  readonly shard: number;
  /** sha256 of the job, shard and range: checkpoints and logs of this shard carry it. */
  readonly fingerprint: string;
  readonly state: ShardState;
  readonly updates: ShardUpdates;
  readonly log: Logger;
  readonly spans: Spans;
}

/**
 * Makes a shard durable before it serves: on `resume` it restores the newest valid checkpoint and
 * replays the write-ahead log after it; otherwise it clears the directory of an earlier run and
 * saves the job there. Then a new log begins at the shard's version.
 */
export async function makeDurable(options: DurabilityOptions, shard: DurableShard): Promise<void> {
  const started = performance.now();
  const { state, updates } = shard;
  const fields = { shard: shard.shard };
  const store = new ShardDurability(options, shard.fingerprint, state.updatesPerStep, shard.log, fields, shard.spans);
  await store.prepare();
  if (!options.resume) await writeSavedJob(options.dir, shard.job);
  if (options.resume) {
    const checkpoint = await store.loadCheckpoint();
    if (checkpoint) state.restore(checkpoint);
    const from = state.version;
    await store.replay(from, (record) => updates.replay(record));
    const replayed = state.version - from;
    shard.log({
      level: 'warn',
      event: 'shard-restored',
      ...fields,
      version: state.version,
      step: state.step,
      checkpointStep: checkpoint?.step ?? null,
      replayed,
      appliedMicroBatches: state.appliedMicroBatches,
      ms: Math.round(performance.now() - started),
      message: `shard ${shard.shard} restored at version ${state.version}: ${checkpoint ? `checkpoint of step ${checkpoint.step}` : 'no checkpoint (initial state)'} + ${replayed} logged updates`,
    });
  }
  await store.startLog(state.version);
  updates.durability = store;
}
