import { dirname, join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { withCode } from '@dptrain/errors';
import { connectPort, maxPayloadFor, type Connection } from '@dptrain/protocol';
import { jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import type { Logger } from '../logger.js';
import { TRACE_FILE_SUFFIX } from '../observe/trace-folder.js';
import type { PsOptions } from './ps.js';
import type { ShardPortRequest } from './shard-thread.js';
import { runWorker, type WorkerCommandOptions } from './worker.js';

/** The shard's thread ended with an error: the process ends too (a supervisor restarts both). */
export class ShardThreadError extends withCode('E_SHARD_THREAD') {}

/**
 * `dptrain worker --shard K`: a worker that also serves parameter-server shard K (BytePS's
 * co-located servers). With one such worker per shard, N workers exchange 2·(N−1)/N of the
 * parameter vector per step over the network and no process is a parameter server only. The
 * shard is the one `dptrain ps` runs (same checkpoints, write-ahead log and resume), in a thread of
 * this process (shard-thread.ts); the worker reaches it over a MessagePort (frames moved between
 * the threads, the real codec and validation, no socket), the other shards as any worker does.
 * Either half failing ends the process: the coordinator sees a worker and a shard lost, and a
 * supervisor restarts the process with `--resume`, as it would a shard.
 */
export async function runColocatedWorker(worker: WorkerCommandOptions, shard: PsOptions, logger: Logger): Promise<void> {
  // The shard's metrics and spans go beside the worker's, in the files a ps of that name would write.
  const beside = (file: string | undefined, name: string): string | undefined => (file ? join(dirname(file), name) : undefined);
  const metricsFile = beside(worker.metricsFile, `metrics-${shard.name}.prom`);
  const trace = beside(worker.trace, `${shard.name}${TRACE_FILE_SUFFIX}`);
  const thread = startShardThread({ ...shard, ...(metricsFile ? { metricsFile } : {}), ...(trace ? { trace } : {}) });
  const log = protocolLog(logger);
  const viaPort = (url: string, paramCount: number): Connection | undefined => {
    if (url !== thread.url()) return undefined;
    const { port1, port2 } = new MessageChannel();
    const maxPayload = maxPayloadFor(paramCount);
    const request: ShardPortRequest = { port: port2, workerName: worker.name, paramCount, maxPayload };
    thread.worker.postMessage(request, [port2]);
    return connectPort(
      port1,
      { role: 'worker', name: worker.name, validateOptions: { paramCount }, maxPayload, log },
      { role: 'ps', name: shard.name },
      jobId(),
    );
  };
  await Promise.all([thread.done, runWorker(worker, logger, viaPort)]);
}

/** Runs shard-thread.ts from the bundle (shard-thread.mjs beside this chunk) or, from the sources, through tsx. */
function startShardThread(options: PsOptions): { worker: Worker; url: () => string | undefined; done: Promise<void> } {
  const here = import.meta.url;
  const worker = here.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./shard-thread.ts', here).href)}); })`,
        { eval: true, workerData: options },
      )
    : new Worker(new URL('./shard-thread.mjs', here), { workerData: options });
  let url: string | undefined;
  worker.on('message', (note: { url: string }) => (url = note.url));
  const done = new Promise<void>((resolve, reject) => {
    worker.once('error', (error) => reject(new ShardThreadError(`shard ${options.shard}'s thread failed: ${error.message}`)));
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new ShardThreadError(`shard ${options.shard}'s thread exited with code ${code}`))));
  });
  return { worker, url: () => url, done };
}
