import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATASET, jobOf, sameBits } from '../testing/in-process-cluster.js';
import { startWorkerRig } from './worker-rig.js';

// The in-process cluster's job: MLP 784-8-10, M = 4 micro-batches of 4 samples per step, 12 steps.
const ALL = [0, 1, 2, 3];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  vi.useRealTimers();
});

/** A worker with the slow=F fault whose injected waits are recorded in `waits` instead of waited. */
function recordingSlowRig(slow: number, waits: number[]) {
  return startWorkerRig(jobOf(), DATASET, {
    fault: { slow },
    faultWait: async (ms) => {
      waits.push(ms);
    },
  });
}

describe('Worker', () => {
  it('a revoked lease whose pull the shard holds is answered with an empty leaseDone; the worker then completes the next leases', async () => {
    const rig = await startWorkerRig(jobOf(), DATASET);
    // Step 1 before step 0 was applied: the shard holds the pull, with nothing to release it.
    const held = rig.lease(1, ALL);
    expect(await rig.pulls.next()).toMatchObject({ step: 1 });
    rig.revoke(held);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: held, step: 1, microBatchIds: [], losses: [] });
    expect(rig.ps.version).toBe(0);

    const next = rig.lease(0, ALL);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: next, step: 0, microBatchIds: ALL });
    // Applying step 0 released the abandoned pull of step 1: its late reply must change nothing.
    expect(rig.ps.version).toBe(1);
    const after = rig.lease(1, ALL);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: after, step: 1, microBatchIds: ALL });
    expect(rig.ps.version).toBe(2);
    expect(rig.ps.counters.accepted).toBe(8);
    expect(rig.progress()).toEqual({ leases: 3, microBatches: 8, reconnects: 0 });

    const report = await rig.stop();
    expect(report).toMatchObject({ leases: 3, microBatches: 8, reconnects: 0 });
    expect(rig.logs.all.filter((r) => r.event === 'lease-abandoned').map((r) => r.leaseId)).toEqual([held]);
    expect(rig.logs.all.filter((r) => r.level === 'error')).toEqual([]);
  }, 30_000);

  it("a restarted coordinator numbering its leases from 0 again: its lease 0 is computed, not taken for the old coordinator's revoked lease 0", async () => {
    const rig = await startWorkerRig(jobOf(), DATASET);
    // The first coordinator's lease 0 of a step the shard cannot serve yet, revoked.
    const old = rig.lease(1, ALL);
    expect(await rig.pulls.next()).toMatchObject({ step: 1 });
    rig.revoke(old);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: old, microBatchIds: [] });
    await rig.restartCoordinator();
    const again = rig.lease(0, ALL);
    expect(again).toBe(old);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: again, step: 0, microBatchIds: ALL });
    expect(rig.ps.version).toBe(1);
    await rig.stop();
  }, 30_000);

  it('a lease revoked while its lost shard is being reconnected is answered at once; the reconnection serves the next lease', async () => {
    const rig = await startWorkerRig(jobOf(), DATASET);
    const held = rig.lease(1, ALL);
    await rig.pulls.next();
    rig.shardDown = true;
    rig.toShard[0].close(4013, 'test: the shard restarts');
    await rig.logs.first((r) => r.event === 'reconnecting');
    rig.revoke(held);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: held, microBatchIds: [], losses: [] });
    // The worker is still reconnecting (the shard is down): the next lease waits for that reconnection.
    expect(rig.toShard).toHaveLength(1);

    const next = rig.lease(0, ALL);
    rig.shardDown = false;
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: next, step: 0, microBatchIds: ALL });
    expect(rig.toShard).toHaveLength(2);
    expect(rig.ps.version).toBe(1);
    expect(rig.progress()).toEqual({ leases: 2, microBatches: 4, reconnects: 1 });
    const report = await rig.stop();
    expect(report).toMatchObject({ leases: 2, reconnects: 1 });
    expect(rig.logs.all.filter((r) => r.event === 'shard-lost')).toHaveLength(1);
  }, 30_000);

  it('nan-from-step: the shard refuses the NaN gradients (E_NON_FINITE), leaseDone lists them as refused, the parameters stay as they were', async () => {
    const job = jobOf();
    const rig = await startWorkerRig(job, DATASET, { fault: { nanFromStep: 1 } });
    rig.lease(0, ALL);
    expect(await rig.leaseDone.next()).toMatchObject({ step: 0, microBatchIds: ALL });
    expect(rig.ps.version).toBe(1);
    const afterStep0 = rig.ps.params.slice();

    const poisoned = rig.lease(1, ALL);
    const done = await rig.leaseDone.next();
    expect(done).toMatchObject({ leaseId: poisoned, step: 1, microBatchIds: [], losses: [], refused: ALL });
    expect(sameBits(rig.ps.params, afterStep0)).toBe(true);
    expect(rig.ps.version).toBe(1);
    expect(rig.ps.counters.accepted).toBe(4);
    // Computed eight, reported four done: the refused ones are not the coordinator's count.
    expect(rig.progress()).toEqual({ leases: 2, microBatches: 4, reconnects: 0 });
    const refusals = rig.logs.all.filter((r) => r.event === 'push-refused');
    expect(refusals.map((r) => [r.step, r.microBatchId, r.shard])).toEqual(ALL.map((id) => [1, id, 0]));
    for (const r of refusals) expect(r.reason).toMatch(/^E_NON_FINITE: push\.grads\[0\] is NaN/);

    // Steps before T were computed honestly: the same bits as a worker without the fault.
    const honest = await startWorkerRig(job, DATASET);
    honest.lease(0, ALL);
    await honest.leaseDone.next();
    expect(sameBits(honest.ps.params, afterStep0)).toBe(true);
    await Promise.all([rig.stop(), honest.stop()]);
  }, 30_000);

  it('slow=F: after each computation the worker waits (F − 1) × its compute time, counted as compute', async () => {
    const waits: number[] = [];
    const rig = await recordingSlowRig(3, waits);
    rig.lease(0, ALL);
    const done = await rig.leaseDone.next();
    expect(done.microBatchIds).toEqual(ALL);
    // The lease's 4 micro-batches are one leading run, computed in one pass: one computation.
    expect(waits).toHaveLength(1);
    for (const ms of waits) expect(ms).toBeGreaterThan(0);
    // computeMs = compute + wait, the wait 2 × the compute: wait × 3/2.
    const sum = waits.reduce((a, b) => a + b, 0);
    expect(done.computeMs).toBeCloseTo((sum * 3) / 2, 6);
    await rig.stop();
  }, 30_000);

  it('a sync lease without micro-batch 0 computes its micro-batches in one pass and pushes each alone: the same bits as one lease of the step', async () => {
    const waits: number[] = [];
    const rig = await recordingSlowRig(2, waits);
    rig.lease(0, [2, 3]);
    expect(await rig.leaseDone.next()).toMatchObject({ step: 0, microBatchIds: [2, 3] });
    // One computation for both (the injected slow-down comes once per pass), two pushes.
    expect(waits).toHaveLength(1);
    expect(rig.ps.counters.accepted).toBe(2);
    expect(rig.ps.version).toBe(0);
    rig.lease(0, [0, 1]);
    expect(await rig.leaseDone.next()).toMatchObject({ step: 0, microBatchIds: [0, 1] });
    expect(rig.ps.version).toBe(1);

    const whole = await startWorkerRig(jobOf(), DATASET);
    whole.lease(0, ALL);
    await whole.leaseDone.next();
    expect(sameBits(rig.ps.params, whole.ps.params)).toBe(true);
    await Promise.all([rig.stop(), whole.stop()]);
  }, 30_000);

  it('refuses a lease of a step or micro-batch outside the plan, naming it, and goes on', async () => {
    const rig = await startWorkerRig(jobOf(), DATASET);
    const outside: [number, number[], RegExp][] = [
      [0, [2, 7], /^E_RANGE: lease 0 \(step 0, 2 micro-batches\) names micro-batch 7; each step has micro-batches 0\.\.3 \(help: /],
      [0, [9], /^E_RANGE: lease 1 \(step 0, 1 micro-batch\) names micro-batch 9/],
      [1_000_000, ALL, /^E_RANGE: lease 2 \(step 1000000, 4 micro-batches\) is outside the plan's steps 0\.\.\d+ \(help: /],
    ];
    for (const [step, ids, message] of outside) {
      const leaseId = rig.lease(step, ids);
      expect(await rig.leaseDone.next()).toMatchObject({ leaseId, microBatchIds: [] });
      const error = await rig.errors.next();
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/help: run the worker with the coordinator of its job/);
    }
    expect([rig.ps.counters.accepted, rig.pulls.all.length]).toEqual([0, 0]);
    rig.lease(0, ALL);
    expect(await rig.leaseDone.next()).toMatchObject({ step: 0, microBatchIds: ALL });
    await rig.stop();
  }, 30_000);

  it('slow=F: a revocation during the injected wait abandons the lease', async () => {
    let waiting: () => void = () => undefined;
    const waitStarted = new Promise<void>((resolve) => (waiting = resolve));
    const rig = await startWorkerRig(jobOf(), DATASET, {
      fault: { slow: 2 },
      // A wait that never ends unless aborted.
      faultWait: (_ms, signal) =>
        new Promise((_, reject) => {
          signal!.addEventListener('abort', () => reject(signal!.reason), { once: true });
          waiting();
        }),
    });
    const stuck = rig.lease(0, ALL);
    await waitStarted;
    rig.revoke(stuck);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: stuck, microBatchIds: [] });
    expect(rig.ps.counters.accepted).toBe(0);
    await rig.stop();
  }, 30_000);

  it('refuses a job from the coordinator that its schema refuses, naming the key, before it builds anything', async () => {
    const job = jobOf();
    const sentJob = JSON.parse(JSON.stringify({ ...job, config: { ...job.config, microBatchSize: 5 } }));
    await expect(startWorkerRig(job, DATASET, { sentJob })).rejects.toThrow(/the job the coordinator sent: microBatchSize .*must divide batchSize/);
    await expect(startWorkerRig(job, DATASET, { sentJob: { ...sentJob, config: job.config, trainCount: -1 } })).rejects.toThrow(
      /not a job description \(trainCount/,
    );
  });

  it('heartbeats follow the job heartbeatMs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const job = jobOf({ heartbeatMs: 250 });
    const rig = await startWorkerRig(job, DATASET);
    vi.advanceTimersByTime(1_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(rig.heartbeats.all).toHaveLength(4);
    vi.advanceTimersByTime(500);
    await new Promise((resolve) => setImmediate(resolve));
    expect(rig.heartbeats.all).toHaveLength(6);
    await rig.stop();
  }, 30_000);
});
