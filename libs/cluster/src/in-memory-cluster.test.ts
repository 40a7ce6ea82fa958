import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { parseConfig } from '@dptrain/config';
import { makeSyntheticDataset, type Dataset } from '@dptrain/data';
import type { Connection } from '@dptrain/protocol';
import { createMemoryPair } from '@dptrain/protocol/testing';
import { evaluateSplit, trainingSplits, trainReference } from '@dptrain/training';
import { beforeAll, describe, expect, it } from 'vitest';
import { Coordinator, type ClusterResult } from './coordinator/coordinator.js';
import type { JobDescription } from './job.js';
import { modelOf } from './model-of.js';
import { ParameterServer } from './parameter-server/parameter-server.js';
import { Worker, type WorkerReport } from './worker/worker.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// An MLP 784-8-10 on 256 generated samples, batches of 16 in micro-batches of 4 (M = 4), 12 steps:
// small enough that a whole cluster runs in one process in about a second.
const DATASET = makeSyntheticDataset({ trainSize: 256, testSize: 64 });
const BASE = { dataset: 'synthetic', model: 'mlp', hidden: [8], batchSize: 16, microBatchSize: 4, steps: 12, optimizer: 'adam', backend: 'cpu' };

function jobOf(overrides: Record<string, unknown> = {}): JobDescription {
  const config = parseConfig({ ...BASE, ...overrides }, 'test config');
  return { config, inputShape: DATASET.inputShape, numClasses: DATASET.numClasses, trainCount: trainingSplits(config, DATASET).train.count };
}

interface Cluster {
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
 * be re-opened the way a socket would be. `onStep` sees every step record.
 */
function startCluster(job: JobDescription, workers: number, onStep: (step: number, cluster: Cluster) => void = () => undefined): Cluster {
  const model = modelOf(job);
  const shardPair = createMemoryPair({ a: { role: 'ps', validateOptions: { paramCount: model.paramCount } }, b: { role: 'coordinator', validateOptions: { paramCount: model.paramCount } } });
  const shardToCoordinator = shardPair.a;
  const ps = new ParameterServer({ job, shard: 0, onApplied: (applied) => void shardToCoordinator.send({ type: 'stepApplied', ...applied }) });
  const cluster: Cluster = {
    coordinator: new Coordinator({
      job,
      paramCount: model.paramCount,
      evaluate: (params, bnState) => evaluateSplit(model, params, bnState ?? model.initBnState(), DATASET.test),
      onStep: (record) => onStep(record.step, cluster),
      workerTimeoutMs: 60_000,
    }),
    ps,
    toWorker: Array.from({ length: workers }, () => []),
    toShard: Array.from({ length: workers }, () => []),
    run: undefined as never,
  };
  cluster.coordinator.attach(shardPair.b);
  ps.attach(shardToCoordinator);
  void shardToCoordinator.request({ type: 'register', name: 'ps-0', pid: 1, backend: 'none', shard: 0 }).then(() => shardToCoordinator.send({ type: 'shardReady', shard: 0, url: 'memory://ps-0' }));
  const reports = Array.from({ length: workers }, (_, k) =>
    new Worker({
      name: `worker-${k}`,
      backend: 'cpu',
      heartbeatMs: 50,
      reconnect: { initialMs: 5, maxMs: 20, maxAttempts: 5 },
      connectCoordinator: async () => {
        const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount: model.paramCount } }, b: { role: 'coordinator', validateOptions: { paramCount: model.paramCount } } });
        cluster.coordinator.attach(pair.b);
        cluster.toWorker[k].push(pair.b);
        return pair.a;
      },
      connectShard: async (_url, paramCount) => {
        const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount } }, b: { role: 'ps', validateOptions: ps.validateOptions(paramCount) } });
        ps.attach(pair.b);
        cluster.toShard[k].push(pair.b);
        return pair.a;
      },
      loadDataset: async (): Promise<Dataset> => DATASET,
    }).run(),
  );
  const finished = cluster.coordinator.done.then(async (result) => {
    for (const c of cluster.coordinator.connections()) await c.send({ type: 'shutdown', reason: 'training finished' });
    return result;
  });
  (cluster as { run: Cluster['run'] }).run = Promise.all([finished, ...reports]).finally(() => model.dispose()) as Cluster['run'];
  return cluster;
}

function same(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('in-memory cluster', () => {
  it('sync: a worker whose coordinator connection is closed mid-run registers again with its id; the bits of the reference trainer', async () => {
    const job = jobOf();
    const reference = await trainReference(job.config, DATASET);
    reference.model.dispose();
    const cluster = startCluster(job, 2, (step, c) => {
      if (step === 4) c.toWorker[0][0].close(4013, 'test: coordinator side drops worker-0');
    });
    const [result, w0, w1] = await cluster.run;
    expect(same(result.params, reference.params)).toBe(true);
    expect(result.steps).toBe(12);
    // One disconnect seen by the coordinator, then the same worker back under generation 1.
    expect(result.faults.map((f) => [f.kind, f.workerId])).toEqual([
      ['worker-disconnected', 0],
      ['worker-reconnected', 0],
    ]);
    expect(result.faults[1].action).toBe('registered again with id 0; generation 1');
    expect(cluster.toWorker[0]).toHaveLength(2);
    expect(w0).toMatchObject({ workerId: 0, reconnects: 1, shutdownReason: 'training finished' });
    expect(w1).toMatchObject({ workerId: 1, reconnects: 0 });
    expect(result.workers.map((w) => [w.workerId, w.reconnects])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    // Every micro-batch was applied once: 12 steps × M = 4 accepted pushes at the shard.
    expect(cluster.ps.counters.accepted).toBe(48);
  }, 30_000);

  it('sync: a worker whose shard connection is closed under a lease reconnects and retries it; the bits of the reference trainer', async () => {
    const job = jobOf();
    const reference = await trainReference(job.config, DATASET);
    reference.model.dispose();
    const cluster = startCluster(job, 2, (step, c) => {
      if (step === 5) c.toShard[1][0].close(4013, 'test: shard side drops worker-1');
    });
    const [result, w0, w1] = await cluster.run;
    expect(same(result.params, reference.params)).toBe(true);
    expect(cluster.toShard[1]).toHaveLength(2);
    expect(w1.reconnects).toBe(1);
    expect(w0.reconnects).toBe(0);
    // The coordinator connection stayed up: no fault recorded.
    expect(result.faults).toEqual([]);
    expect(cluster.ps.counters.accepted).toBe(48);
  }, 30_000);

  it('async: each micro-batch is applied exactly once, none staler than the bound; stale ones are re-leased', async () => {
    const job = jobOf({ mode: 'async', staleness: 0 });
    const cluster = startCluster(job, 2);
    const [result] = await cluster.run;
    const { counters, stalenessHistogram } = cluster.ps;
    // 12 steps × M = 4 micro-batches, each applied once; the version counts them.
    expect(counters.accepted).toBe(48);
    expect(cluster.ps.version).toBe(48);
    // Staleness 0: every applied gradient was computed on the version it was applied to.
    expect(stalenessHistogram).toEqual([48]);
    // Each `stale` answer made the coordinator lease that micro-batch again, nothing else did.
    expect(result.staleReleased).toBe(counters.stale);
    expect(counters.rejected).toBe(0);
    expect(result.shards[0]).toMatchObject({ accepted: 48, stale: counters.stale, stalenessHistogram: [48] });
    expect(result.steps).toBe(12);
  }, 30_000);
});
