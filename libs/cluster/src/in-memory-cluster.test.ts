import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { trainReference } from '@dptrain/training';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATASET, jobOf, sameBits, startCluster } from './testing/in-process-cluster.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('in-memory cluster', () => {
  it('sync: a worker whose coordinator connection is closed mid-run registers again with its id; the bits of the reference trainer', async () => {
    const job = jobOf();
    const reference = await trainReference(job.config, DATASET);
    reference.model.dispose();
    const cluster = startCluster(job, 2, {
      onStep: (step, c) => {
        if (step === 4) c.toWorker[0][0].close(4013, 'test: coordinator side drops worker-0');
      },
    });
    const [result, w0, w1] = await cluster.run;
    expect(sameBits(result.params, reference.params)).toBe(true);
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
    const cluster = startCluster(job, 2, {
      onStep: (step, c) => {
        if (step === 5) c.toShard[1][0].close(4013, 'test: shard side drops worker-1');
      },
    });
    const [result, w0, w1] = await cluster.run;
    expect(sameBits(result.params, reference.params)).toBe(true);
    expect(cluster.toShard[1]).toHaveLength(2);
    expect(w1.reconnects).toBe(1);
    expect(w0.reconnects).toBe(0);
    // The coordinator connection stayed up: no fault recorded.
    expect(result.faults).toEqual([]);
    expect(cluster.ps.counters.accepted).toBe(48);
  }, 30_000);

  it('sync: step records number epochs from 1 as the reference trainer does; worker-k holds id k', async () => {
    // 256 samples in batches of 16: 16 steps per epoch, so 20 steps end 4 steps into epoch 2.
    const job = jobOf({ epochs: 2, steps: 20 });
    const trained: [number, number][] = [];
    const reference = await trainReference(job.config, DATASET, { onStep: (r) => void trained.push([r.step, r.epoch]) });
    reference.model.dispose();
    const closed: [number, number][] = [];
    const [result] = await startCluster(job, 2, { onStep: (step, _c, record) => void closed.push([step, record.epoch]) }).run;
    expect(closed).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, i < 16 ? 1 : 2]));
    expect(closed).toEqual(trained);
    expect([result.epochs, reference.epochs]).toEqual([2, 2]);
    expect(result.workers.map((w) => `${w.workerId} ${w.name}`)).toEqual(['0 worker-0', '1 worker-1']);
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
