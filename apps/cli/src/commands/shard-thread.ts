/**
 * The thread a co-located worker serves its shard from (colocated-worker.ts): `dptrain ps`'s
 * runPs with the options the worker hands over. A thread of its own because TensorFlow.js
 * computes synchronously on the main thread: a shard there could answer no push or pull of the
 * other workers until the worker's micro-batches were done.
 *
 * With the main thread: this thread posts `{ url }` each time the shard listens; the main thread
 * posts a `ShardPortRequest` for its own worker's connection, served over the port (no socket).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { connectPort } from '@dptrain/protocol';
import { jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import { createLogger } from '../logger.js';
import { runPs, type PsOptions, type ServingShard } from './ps.js';

/** The main thread's worker asks for a connection to this shard over `port`. */
export interface ShardPortRequest {
  readonly port: MessagePort;
  readonly workerName: string;
  readonly paramCount: number;
  readonly maxPayload: number;
}

const options = workerData as PsOptions;
const logger = createLogger('ps');
const log = protocolLog(logger);
let serving: ServingShard | undefined;
const waiting: ShardPortRequest[] = [];

const attach = (shard: ServingShard, request: ShardPortRequest): void =>
  shard.serve(
    connectPort(
      request.port,
      { role: 'ps', name: options.name, validateOptions: shard.validateOptions, log },
      { role: 'worker', name: request.workerName, validateOptions: { paramCount: request.paramCount }, maxPayload: request.maxPayload },
      jobId(),
    ),
  );

parentPort!.on('message', (request: ShardPortRequest) => {
  if (serving) attach(serving, request);
  else waiting.push(request);
});

await runPs(options, logger, (shard) => {
  serving = shard;
  for (const request of waiting.splice(0)) attach(shard, request);
  parentPort!.postMessage({ url: shard.url });
});
// The port to the main thread would keep this thread alive: the shard is done.
parentPort!.close();
