import { createMemoryPair, maxPayloadFor } from '@dptrain/protocol';
import { jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import type { Logger } from '../logger.js';
import { runPs, type LocalShard, type PsOptions } from './ps.js';
import { runWorker, type WorkerCommandOptions } from './worker.js';

/**
 * `dptrain worker --shard K`: a worker that also serves parameter-server shard K (BytePS's
 * co-located servers). With one such worker per shard, N workers exchange 2·(N−1)/N of the
 * parameter vector per step and no process is a parameter server only. The shard is the one
 * `dptrain ps` runs (same checkpoints, write-ahead log and resume); the worker reaches it through
 * an in-memory connection (the real codec and validation, no socket), the other shards as any
 * worker does. Either half failing ends the process: the coordinator sees a worker and a shard
 * lost, and a supervisor restarts the process with `--resume`, as it would a shard.
 */
export async function runColocatedWorker(worker: WorkerCommandOptions, shard: PsOptions, logger: Logger): Promise<void> {
  let local: LocalShard | undefined;
  const log = protocolLog(logger);
  const serving = runPs(shard, logger, (started) => (local = started));
  const working = runWorker(worker, logger, (url, paramCount) => {
    if (local?.url !== url) return undefined;
    const pair = createMemoryPair({
      jobId: jobId(),
      a: { role: 'worker', name: worker.name, validateOptions: { paramCount }, maxPayload: maxPayloadFor(paramCount), log },
      b: { role: 'ps', name: shard.name, validateOptions: local.validateOptions, log },
    });
    local.serve(pair.b);
    return pair.a;
  });
  await Promise.all([serving, working]);
}
