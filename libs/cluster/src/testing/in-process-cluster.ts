import { parseConfig } from '@dptrain/config';
import { makeSyntheticDataset, type Dataset } from '@dptrain/data';
import { createMemoryPair, type Connection } from '@dptrain/protocol';
import { evaluateSplit, trainingSplits } from '@dptrain/training';
import { Coordinator, type CoordinatorOptions } from '../coordinator/coordinator.js';
import type { ClusterResult } from '../coordinator/summary.js';
import type { JobDescription } from '@dptrain/job';
import { modelOf } from '../model-of.js';
import { ParameterServer } from '../parameter-server/parameter-server.js';
import { Worker, type WorkerReport } from '../worker/worker.js';

/**
 * A whole cluster in one process for tests: coordinator, one shard and N workers over in-memory
 * connections (through the real codec and validator), or the shard behind real sockets when the
 * caller passes `connectShard`. Needs a TensorFlow.js backend set by the test.
 */
// An MLP 784-8-10 on 256 generated samples, batches of 16 in micro-batches of 4 (M = 4), 12 steps:
// small enough that a whole cluster runs in one process in about a second.
export const DATASET = makeSyntheticDataset({ trainSize: 256, testSize: 64 });
const BASE = { dataset: 'synthetic', model: 'mlp', hidden: [8], batchSize: 16, microBatchSize: 4, steps: 12, optimizer: 'adam', backend: 'cpu' };

export function jobOf(overrides: Record<string, unknown> = {}): JobDescription {
  const config = parseConfig({ ...BASE, ...overrides }, 'test config');
  return { config, inputShape: DATASET.inputShape, numClasses: DATASET.numClasses, trainCount: trainingSplits(config, DATASET).train.count };
}

type StepRecord = Parameters<NonNullable<CoordinatorOptions['onStep']>>[0];

export interface ClusterOptions {
  /** Sees every step record. */
  readonly onStep?: (step: number, cluster: Cluster, record: StepRecord) => void;
  /** Opens worker k's connection to the shard; default: an in-memory pair attached to the shard. */
  readonly connectShard?: (k: number, ps: ParameterServer, paramCount: number) => Promise<Connection>;
  /** The workers, by index, that have no data set and get their samples with each lease. @default none */
  readonly samplesFromCoordinator?: readonly number[];
}

export interface Cluster {
  readonly coordinator: Coordinator;
  readonly ps: ParameterServer;
  /** Each worker's coordinator connections as the coordinator holds them, newest last. */
  readonly toWorker: Connection[][];
  /** Each worker's shard connections as the shard holds them, newest last. */
  readonly toShard: Connection[][];
  readonly run: Promise<[ClusterResult, ...WorkerReport[]]>;
}

/**
 * Coordinator, one shard and `workers` workers in this process, over in-memory connections
 * through the real codec and validator. Each connect call opens a fresh pair, so a closed one can
 * be re-opened the way a socket would be.
 */
export function startCluster(job: JobDescription, workers: number, options: ClusterOptions = {}): Cluster {
  const onStep = options.onStep ?? (() => undefined);
  const model = modelOf(job);
  const shardPair = createMemoryPair({
    a: { role: 'ps', validateOptions: { paramCount: model.paramCount } },
    b: { role: 'coordinator', validateOptions: { paramCount: model.paramCount } },
  });
  const shardToCoordinator = shardPair.a;
  const ps = new ParameterServer({ job, shard: 0, onApplied: (applied) => void shardToCoordinator.send({ type: 'stepApplied', ...applied }) });
  const cluster: Cluster = {
    coordinator: new Coordinator({
      job,
      paramCount: model.paramCount,
      evaluate: (params, bnState) => evaluateSplit(model, params, bnState ?? model.initBnState(), DATASET.test),
      train: trainingSplits(job.config, DATASET).train,
      onStep: (record) => onStep(record.step, cluster, record),
      workerTimeoutMs: 60_000,
    }),
    ps,
    toWorker: Array.from({ length: workers }, () => []),
    toShard: Array.from({ length: workers }, () => []),
    run: undefined as never,
  };
  cluster.coordinator.attach(shardPair.b);
  ps.attach(shardToCoordinator);
  void shardToCoordinator
    .request({ type: 'register', name: 'ps-0', pid: 1, backend: 'none', shard: 0 })
    .then(() => shardToCoordinator.send({ type: 'shardReady', shard: 0, url: 'memory://ps-0' }));
  const reports = Array.from({ length: workers }, (_, k) =>
    new Worker({
      name: `worker-${k}`,
      workerId: k,
      backend: 'cpu',
      heartbeatMs: 50,
      reconnect: { initialMs: 5, maxMs: 20, maxAttempts: 5 },
      connectCoordinator: async () => {
        const pair = createMemoryPair({
          a: { role: 'worker', validateOptions: { paramCount: model.paramCount } },
          b: { role: 'coordinator', validateOptions: { paramCount: model.paramCount } },
        });
        cluster.coordinator.attach(pair.b);
        cluster.toWorker[k].push(pair.b);
        return pair.a;
      },
      connectShard: async (_url, paramCount) => {
        if (options.connectShard) return options.connectShard(k, ps, paramCount);
        const pair = createMemoryPair({
          a: { role: 'worker', validateOptions: { paramCount } },
          b: { role: 'ps', validateOptions: ps.validateOptions(paramCount) },
        });
        ps.attach(pair.b);
        cluster.toShard[k].push(pair.b);
        return pair.a;
      },
      ...(options.samplesFromCoordinator?.includes(k) ? { samplesFromCoordinator: true as const } : { loadDataset: async (): Promise<Dataset> => DATASET }),
    }).run(),
  );
  const finished = cluster.coordinator.done.then(async (result) => {
    for (const c of cluster.coordinator.connections()) await c.send({ type: 'shutdown', reason: 'training finished' });
    return result;
  });
  (cluster as { run: Cluster['run'] }).run = Promise.all([finished, ...reports]).finally(() => model.dispose()) as Cluster['run'];
  return cluster;
}

/** Bit-for-bit equality of two float32 vectors. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
