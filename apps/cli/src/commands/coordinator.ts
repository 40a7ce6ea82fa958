import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@dptrain/backend';
import { Coordinator, LeaseTickets, modelOf, resumePointOf, type FaultRecord } from '@dptrain/cluster';
import { checkClusterConfig, planSizes, type JobDescription } from '@dptrain/job';
import type { JobConfig } from '@dptrain/config';
import { fanOut } from '@dptrain/log';
import { createServer, resolveToken } from '@dptrain/protocol';
import { writeFileAtomic } from '@dptrain/safetensors';
import { evaluateSplit, modelMetadata, modelTensors, RunFolder, trainingSplits } from '@dptrain/training';
import { announce, jobId } from '../cluster/announce.js';
import { DashboardEvents } from '../cluster/dashboard-events.js';
import { joinLink } from '../cluster/browser-worker-http.js';
import { dashboardAddress } from '../cluster/dashboard-http.js';
import { protocolLog } from '../cluster/protocol-log.js';
import { statusRoutes } from '../cluster/status-http.js';
import { LastRecords } from '../cluster/last-records.js';
import { coordinatorMetrics, type StatusView } from '../cluster/prometheus.js';
import { withProcessMetrics } from '../cluster/scraped-metrics.js';
import { serverTls } from '../cluster/tls-files.js';
import type { Logger } from '../logger.js';
import { startRoleTrace } from '../observe/role-trace.js';
import { loadJobDataset } from './train.js';

export interface CoordinatorCommandOptions {
  readonly host: string;
  readonly port: number;
  /** Continue the job of the run folder (it holds one: claimRunFolder said so). */
  readonly resume: boolean;
  /** PEM files: serve wss:// (both or neither). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Record this process's spans into this file (--trace). */
  readonly trace?: string;
  /** Listen on this inherited socket, bound to host:port by the parent (`dptrain local`). */
  readonly listenFd?: number;
  /** Print (and announce) a link that admits a browser tab as a worker. */
  readonly joinLink?: boolean;
}

/**
 * `dptrain coordinator`: owns the job. Listens for shards and workers (WebSocket) and for
 * `GET /status` (HTTP) on one port, runs the job, evaluates, writes the run folder exactly as
 * `dptrain train` does plus `workers`, `faults` and `backupLeases`, then tells everyone to shut down.
 */
export async function runCoordinator(config: JobConfig, options: CoordinatorCommandOptions, logger: Logger): Promise<void> {
  checkClusterConfig(config);
  // Before the backend and the data set load: a missing or short token, or an unreadable
  // certificate, is the user's to fix at once.
  const token = resolveToken(undefined);
  const tls = serverTls(options.tlsCert, options.tlsKey);
  const trace = options.trace ? await startRoleTrace(options.trace, 'coordinator', logger) : undefined;
  const backend = await initBackend(config.backend);
  logger.info({ backend: backend.name, tried: backend.tried }, `TensorFlow.js backend: ${backend.name}`);
  const dataset = await loadJobDataset(config, logger);
  const { train, validation } = trainingSplits(config, dataset);
  const job: JobDescription = { config, inputShape: dataset.inputShape, numClasses: dataset.numClasses, trainCount: train.count };
  const model = modelOf(job);
  const run = options.resume ? await RunFolder.reopen(config.out) : await RunFolder.create(config.out, config);
  const plan = planSizes(job);
  const pastRecords = options.resume ? await run.readRecords('metrics.jsonl') : [];
  const resume = options.resume ? resumePointOf(pastRecords, plan.stepsPerEpoch) : undefined;
  const pastFaults = options.resume ? ((await run.readRecords('faults.jsonl')) as FaultRecord[]) : [];
  if (resume) logger.warn({ step: resume.step, faults: pastFaults.length }, `resuming the job of ${config.out} after ${resume.step} closed steps`);
  // A fresh run must not inherit the faults of an earlier run in the same folder.
  else await rm(run.path('faults.jsonl'), { force: true });
  const started = performance.now();
  const dashboard = new DashboardEvents({ config, totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch, startedAt: Date.now() });
  dashboard.replay(pastRecords, pastFaults);
  // The metrics read the status and the records metrics.jsonl gets, at each scrape (the server, hence the first scrape, comes after the coordinator).
  const statusView = (): StatusView => coordinator.status() as unknown as StatusView;
  const records = new LastRecords();
  const metrics = coordinatorMetrics(statusView, records);
  const coordinator = new Coordinator({
    job,
    paramCount: model.paramCount,
    log: protocolLog(logger),
    tickets: new LeaseTickets(token, jobId()),
    // Workers started with --samples-from-coordinator get their samples' rows from it with each lease.
    train,
    spans: fanOut(metrics.spans, ...(trace ? [trace.spans] : [])),
    ...(resume ? { resume, pastFaults } : {}),
    onFault: (record) => {
      dashboard.fault(record);
      return run.appendRecord('faults.jsonl', record);
    },
    evaluate: (params, bnState) => evaluateSplit(model, params, bnState ?? model.initBnState(), dataset.test),
    ...(validation
      ? { validate: (params: Float32Array, bnState: Float32Array | undefined) => evaluateSplit(model, params, bnState ?? model.initBnState(), validation) }
      : {}),
    onStep: async (record) => {
      const seen = { ...record, samplesPerSecond: (record.step * config.batchSize) / ((performance.now() - started) / 1000) };
      announce('step', seen);
      records.step(seen);
      dashboard.step(record);
      await run.appendMetrics(record);
    },
    onEval: async (record) => {
      announce('eval', record);
      records.eval(record);
      dashboard.eval(record);
      logger.info(record, `${record.split} accuracy ${(record.accuracy * 100).toFixed(2)}% loss ${record.loss.toFixed(4)} after step ${record.step}`);
      await run.appendMetrics(record);
    },
  });
  const server = await createServer({
    jobId: jobId(),
    role: 'coordinator',
    host: options.host,
    port: options.port,
    ...(options.listenFd !== undefined ? { fd: options.listenFd } : {}),
    acceptRoles: ['ps', 'worker', 'client'],
    validateOptions: { paramCount: model.paramCount },
    log: protocolLog(logger),
    onConnection: (connection) => coordinator.attach(connection),
    onRequest: statusRoutes(token, coordinator, withProcessMetrics(metrics.registry), dashboard),
    ...(tls ? { tls } : {}),
  });
  logger.info(
    { url: server.url, shards: config.psShards },
    `coordinator listening on ${server.url}; dashboard ${dashboardAddress(server.url)}#token=<DPTRAIN_TOKEN> (GET /status, /metrics, /events with the token, GET /healthz, on the same port)`,
  );
  announce('listening', { role: 'coordinator', port: server.port });
  if (options.joinLink) {
    const url = joinLink(dashboardAddress(server.url), token, jobId());
    logger.info({ url }, `join as a worker from a browser tab: ${url} (admits workers for an hour)`);
    announce('joinLink', { url });
  }
  try {
    const result = await coordinator.done;
    const wallSeconds = (performance.now() - started) / 1000;
    await run.writeParams(modelTensors(model, result.params, result.bnState ?? model.initBnState()), {
      model: config.model,
      backend: backend.name,
      steps: String(result.steps),
      seed: String(config.seed),
      ...modelMetadata(model, config.dataset),
    });
    await run.writeSummary({
      config,
      backend: backend.name,
      steps: result.steps,
      epochs: result.epochs,
      wallSeconds,
      samplesPerSecond: (result.steps * config.batchSize) / wallSeconds,
      trainLoss: result.trainLoss,
      testAccuracy: result.test.accuracy,
      testLoss: result.test.loss,
      paramCount: model.paramCount,
      dataSource: dataset.source,
      workers: result.workers,
      faults: result.faults,
      // Not faults: a straggler's work done twice, the first copy kept (each worker's share in `workers`).
      backupLeases: result.backupLeases,
      mode: config.mode,
      ...(config.mode === 'async' ? { staleness: config.staleness, staleReleased: result.staleReleased } : {}),
      shards: result.shards,
      steadySamplesPerSecond: result.steadySamplesPerSecond,
      // Steady state: the average worker's milliseconds per step in each phase, evaluation excluded.
      timingPerStepMs: result.timing,
    });
    // The metrics' last values, to compare runs after the fact as summary.json does (same counts).
    await coordinator.refreshShardStatus();
    await writeFileAtomic(join(run.dir, 'metrics.prom'), await metrics.registry.metrics());
    logger.info({ out: run.dir, testAccuracy: result.test.accuracy, wallSeconds: Number(wallSeconds.toFixed(1)) }, 'training finished');
    announce('done', { out: run.dir, steps: result.steps, testAccuracy: result.test.accuracy, testLoss: result.test.loss, wallSeconds });
    dashboard.end({ state: 'done', steps: result.steps, testAccuracy: result.test.accuracy, testLoss: result.test.loss, wallSeconds });
    await Promise.all(coordinator.connections().map((c) => c.send({ type: 'shutdown', reason: 'training finished' })));
  } catch (error) {
    dashboard.end({ state: 'failed', message: (error as Error).message });
    await Promise.all(coordinator.connections().map((c) => c.send({ type: 'shutdown', reason: `job failed: ${(error as Error).message}` })));
    throw error;
  } finally {
    coordinator.stop();
    await server.close();
    await trace?.close();
  }
}
