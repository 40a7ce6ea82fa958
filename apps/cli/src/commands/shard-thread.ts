/**
 * The thread a co-located worker serves its shard from (colocated-worker.ts): `dptrain ps`'s
 * runPs with the options the worker hands over. A thread of its own because TensorFlow.js
 * computes synchronously on the main thread: a shard there could answer no push or pull of the
 * other workers until the worker's micro-batches were done.
 */
import { workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { runPs, type PsOptions } from './ps.js';

await runPs(workerData as PsOptions, createLogger('ps'));
