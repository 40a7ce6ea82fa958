import { initBackend, parseBackendChoice } from '@dptrain/backend';
import { SAMPLES_MAX_PAYLOAD, Worker, parseFaultInjection, type FaultInjection } from '@dptrain/cluster';
import { fanOut } from '@dptrain/log';
import { connect, maxPayloadFor, resolveToken, type Connection } from '@dptrain/protocol';
import { writeFileAtomic } from '@dptrain/safetensors';
import type { Registry } from 'prom-client';
import { announce, jobId } from '../cluster/announce.js';
import { healthzOr404, metricsRoute, serveMetrics, type MetricsServer } from '../cluster/metrics-http.js';
import { protocolLog } from '../cluster/protocol-log.js';
import { withProcessMetrics } from '../cluster/scraped-metrics.js';
import { clientCa } from '../cluster/tls-files.js';
import { workerMetrics } from '../cluster/worker-metrics.js';
import type { Logger } from '../logger.js';
import { startRoleTrace } from '../observe/role-trace.js';
import { loadJobDataset } from './train.js';

export interface WorkerCommandOptions {
  readonly coordinator: string;
  readonly name: string;
  readonly backend: string;
  /** The id to ask the coordinator for (granted when no other worker holds it); else it picks. */
  readonly workerId?: number;
  /** PEM file: the CA that wss:// coordinator and shards present certificates of. */
  readonly tlsCa?: string;
  /** Serve GET /metrics and /healthz over plain HTTP here (port 0: any free port, logged and announced). */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** Write the last values of its metrics here when it stops (the process's own left out), as metrics.prom. */
  readonly metricsFile?: string;
  /** Record this process's spans into this file (--trace). */
  readonly trace?: string;
  /** Load no data set: each lease comes with its samples (--samples-from-coordinator). */
  readonly samplesFromCoordinator?: boolean;
}

/** A connection to the shard at `url` when this process serves it (a co-located worker), else undefined. */
export type InProcessShards = (url: string, paramCount: number) => Connection | undefined;

/**
 * `dptrain worker`: computes leased micro-batches until the coordinator says shutdown. A lost
 * coordinator or shard connection is opened again with back-off (the worker registers again with
 * its id). `DPTRAIN_FAULT` makes it misbehave on purpose, for the chaos suite.
 * @throws RangeError when DPTRAIN_FAULT is not a list of known key=value faults
 */
export async function runWorker(options: WorkerCommandOptions, logger: Logger, inProcess?: InProcessShards): Promise<void> {
  const fault = parseFaultInjection(process.env.DPTRAIN_FAULT, options.name);
  const token = resolveToken(undefined);
  const ca = clientCa(options.tlsCa);
  const trace = options.trace ? await startRoleTrace(options.trace, options.name, logger) : undefined;
  if (Object.keys(fault).length > 0) logger.warn({ fault }, `DPTRAIN_FAULT: this worker injects faults into itself: ${describeFaults(fault)}`);
  const backend = await initBackend(parseBackendChoice(options.backend));
  logger.info({ backend: backend.name, tried: backend.tried }, `TensorFlow.js backend: ${backend.name}`);
  const log = protocolLog(logger);
  const metrics = workerMetrics(() => worker.progress());
  const worker = new Worker({
    connectCoordinator: () =>
      connect(options.coordinator, {
        role: 'worker',
        jobId: jobId(),
        name: options.name,
        expectRole: 'coordinator',
        log,
        ...(options.samplesFromCoordinator ? { maxPayload: SAMPLES_MAX_PAYLOAD } : {}),
        ...ca,
      }),
    name: options.name,
    ...(options.workerId !== undefined ? { workerId: options.workerId } : {}),
    backend: backend.name,
    log,
    spans: fanOut(metrics.spans, ...(trace ? [trace.spans] : [])),
    connectShard: async (url, paramCount) =>
      inProcess?.(url, paramCount) ??
      connect(url, {
        role: 'worker',
        jobId: jobId(),
        name: options.name,
        expectRole: 'ps',
        validateOptions: { paramCount },
        maxPayload: maxPayloadFor(paramCount),
        log,
        ...ca,
      }),
    ...(options.samplesFromCoordinator ? { samplesFromCoordinator: true as const } : { loadDataset: (job) => loadJobDataset(job.config, logger) }),
    fault,
  });
  const served = options.metrics ? await serveMetricsOf(options.metrics, options.name, token, metrics.registry, logger) : undefined;
  const report = await worker.run().finally(() => served?.close());
  if (options.metricsFile) await writeFileAtomic(options.metricsFile, await metrics.registry.metrics());
  await trace?.close();
  logger.info(report, `worker ${report.workerId} stopping: ${report.shutdownReason}`);
}

/** Serves the worker's metrics (and the process's) at `where`; says where in the log and, for `dptrain local`, on stdout. */
async function serveMetricsOf(where: { host: string; port: number }, name: string, token: string, registry: Registry, logger: Logger): Promise<MetricsServer> {
  const routes = metricsRoute(token, withProcessMetrics(registry), healthzOr404(name));
  const served = await serveMetrics(where.host, where.port, routes, { host: '--metrics-host', port: '--metrics-port' });
  logger.info({ url: served.url }, `metrics on ${served.url} (GET /metrics with the token, GET /healthz)`);
  announce('listening', { role: 'worker', port: served.port });
  return served;
}

/** Which faults a worker injects, in words, for its one warning line. */
function describeFaults(fault: FaultInjection): string {
  const parts: string[] = [];
  if (fault.slow !== undefined) parts.push(`slow=${fault.slow} (each micro-batch takes ${fault.slow}× its compute time)`);
  if (fault.nanFromStep !== undefined) parts.push(`nan-from-step=${fault.nanFromStep} (gradients of steps ≥ ${fault.nanFromStep} are pushed as NaN)`);
  if (fault.stallCheckpointStep !== undefined)
    parts.push(`stall-checkpoint-step=${fault.stallCheckpointStep} (a parameter-server fault: this worker ignores it)`);
  return parts.join(', ');
}
