import { initBackend, parseBackendChoice } from '@dptrain/backend';
import { Worker } from '@dptrain/cluster';
import { connect, maxPayloadFor } from '@dptrain/protocol';
import { jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import type { Logger } from '../logger.js';
import { loadJobDataset } from './train.js';

export interface WorkerCommandOptions {
  readonly coordinator: string;
  readonly name: string;
  readonly backend: string;
}

/**
 * `dptrain worker`: computes leased micro-batches until the coordinator says shutdown. A lost
 * coordinator or shard connection is opened again with back-off (the worker registers again with
 * its id).
 */
export async function runWorker(options: WorkerCommandOptions, logger: Logger): Promise<void> {
  const backend = await initBackend(parseBackendChoice(options.backend));
  logger.info({ backend: backend.name, tried: backend.tried }, `TensorFlow.js backend: ${backend.name}`);
  const log = protocolLog(logger);
  const worker = new Worker({
    connectCoordinator: () => connect(options.coordinator, { role: 'worker', jobId: jobId(), name: options.name, expectRole: 'coordinator', log }),
    name: options.name,
    backend: backend.name,
    log,
    connectShard: (url, paramCount) =>
      connect(url, { role: 'worker', jobId: jobId(), name: options.name, expectRole: 'ps', validateOptions: { paramCount }, maxPayload: maxPayloadFor(paramCount), log }),
    loadDataset: (job) => loadJobDataset(job.config, logger),
  });
  const report = await worker.run();
  logger.info(report, `worker ${report.workerId} stopping: ${report.shutdownReason}`);
}
