import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { withCode } from '@dptrain/errors';
import type { Logger } from '../logger.js';
import { TRACE_FILE_SUFFIX } from '../observe/trace-folder.js';
import type { PsOptions } from './ps.js';
import { runWorker, type WorkerCommandOptions } from './worker.js';

/** The shard's thread ended with an error: the process ends too (a supervisor restarts both). */
export class ShardThreadError extends withCode('E_SHARD_THREAD') {}

/**
 * `dptrain worker --shard K`: a worker that also serves parameter-server shard K (BytePS's
 * co-located servers). With one such worker per shard, N workers exchange 2·(N−1)/N of the
 * parameter vector per step and no process is a parameter server only. The shard is the one
 * `dptrain ps` runs (same checkpoints, write-ahead log and resume), in a thread of this process
 * (shard-thread.ts), reached like any shard at its URL. Either half failing ends the process: the
 * coordinator sees a worker and a shard lost, and a supervisor restarts the process with
 * `--resume`, as it would a shard.
 */
export async function runColocatedWorker(worker: WorkerCommandOptions, shard: PsOptions, logger: Logger): Promise<void> {
  // The shard's metrics and spans go beside the worker's, in the files a ps of that name would write.
  const beside = (file: string | undefined, name: string): string | undefined => (file ? join(dirname(file), name) : undefined);
  const metricsFile = beside(worker.metricsFile, `metrics-${shard.name}.prom`);
  const trace = beside(worker.trace, `${shard.name}${TRACE_FILE_SUFFIX}`);
  await Promise.all([shardThread({ ...shard, ...(metricsFile ? { metricsFile } : {}), ...(trace ? { trace } : {}) }), runWorker(worker, logger)]);
}

/** Runs shard-thread.ts from the bundle (shard-thread.mjs beside this chunk) or, from the sources, through tsx. */
function shardThread(options: PsOptions): Promise<void> {
  const here = import.meta.url;
  const thread = here.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./shard-thread.ts', here).href)}); })`,
        { eval: true, workerData: options },
      )
    : new Worker(new URL('./shard-thread.mjs', here), { workerData: options });
  return new Promise((resolve, reject) => {
    thread.once('error', (error) => reject(new ShardThreadError(`shard ${options.shard}'s thread failed: ${error.message}`)));
    thread.once('exit', (code) => (code === 0 ? resolve() : reject(new ShardThreadError(`shard ${options.shard}'s thread exited with code ${code}`))));
  });
}
