import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { trainingSplits, trainReference } from '@dptrain/training';
import { beforeAll, describe, expect, it } from 'vitest';
import { LeaseSamples, type SampleRows } from '../coordinator/lease-samples.js';
import { DATASET, jobOf, sameBits, startCluster } from '../testing/in-process-cluster.js';
import { startWorkerRig } from './worker-rig.js';

// The in-process cluster's job: MLP 784-8-10, M = 4 micro-batches of 4 samples per step, 12 steps.
const ALL = [0, 1, 2, 3];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a worker without the data set', () => {
  it('registers with samples and computes each lease from the samples it carries, with the bits of a worker with the data set', async () => {
    const job = jobOf();
    const rig = await startWorkerRig(job, DATASET, { samplesFromCoordinator: true });
    expect((await rig.registers.next()).samples).toBe(true);
    expect(rig.logs.all.find((r) => r.event === 'worker-registered')).toMatchObject({ samplesFromCoordinator: true });
    const honest = await startWorkerRig(job, DATASET);
    expect((await honest.registers.next()).samples).toBeUndefined();
    for (const step of [0, 1]) {
      // Two leases per step, the later micro-batches first.
      for (const ids of [
        [2, 3],
        [0, 1],
      ]) {
        rig.lease(step, ids);
        honest.lease(step, ids);
        expect(await rig.leaseDone.next()).toMatchObject({ step, microBatchIds: ids });
        expect(await honest.leaseDone.next()).toMatchObject({ step, microBatchIds: ids });
      }
    }
    expect(rig.ps.version).toBe(2);
    expect(sameBits(rig.ps.params, honest.ps.params)).toBe(true);
    await Promise.all([rig.stop(), honest.stop()]);
  }, 30_000);

  it('refuses a lease whose samples are missing, of the wrong length or with a label that is no class, naming the cause, and goes on', async () => {
    const job = jobOf();
    const rig = await startWorkerRig(job, DATASET, { samplesFromCoordinator: true });
    const good = new LeaseSamples(trainingSplits(job.config, DATASET).train, job.config).rows(0, ALL);
    const badLabel: SampleRows = { images: good.images, labels: good.labels.map((label, i) => (i === 5 ? DATASET.numClasses : label)) };
    const hostile: [SampleRows | 'none', string][] = [
      ['none', 'E_MALFORMED: lease 0 (step 0, 4 micro-batches) carries no samples, and this worker has no data set'],
      [
        // Consistent for the protocol (16 samples of 783 bytes), not for the job.
        { images: good.images.subarray(16), labels: good.labels },
        'E_BAD_LENGTH: lease 1 (step 0, 4 micro-batches) carries 16 labels and 12528 image bytes; its 4 micro-batches of 4 samples of 784 bytes need 16 and 12544',
      ],
      [
        { images: good.images.subarray(0, 12 * 784), labels: good.labels.subarray(0, 12) },
        'E_BAD_LENGTH: lease 2 (step 0, 4 micro-batches) carries 12 labels and 9408 image bytes',
      ],
      [badLabel, "E_RANGE: lease 3 (step 0, 4 micro-batches) carries label 10 for its sample 5; the job's classes are 0..9"],
    ];
    for (const [rows, message] of hostile) {
      const leaseId = rig.lease(0, ALL, rows);
      // Answered at once with nothing done, so the coordinator leases the micro-batches again.
      expect(await rig.leaseDone.next()).toMatchObject({ leaseId, microBatchIds: [], losses: [] });
      const error = await rig.errors.next();
      expect(error.message).toContain(message);
      expect(error.message).toMatch(/help: /);
      expect(rig.logs.all.filter((r) => r.event === 'lease-refused').at(-1)).toMatchObject({ leaseId, message: error.message });
    }
    // Samples for a micro-batch the plan does not have: refused before anything is written.
    const foreign = rig.lease(0, [7], { images: good.images.subarray(0, 4 * 784), labels: good.labels.subarray(0, 4) });
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: foreign, microBatchIds: [] });
    expect((await rig.errors.next()).message).toMatch(/^E_RANGE: lease 4 \(step 0, 1 micro-batch\) names micro-batch 7; each step has micro-batches 0\.\.3/);
    // Lengths inconsistent with each other do not even reach the worker: its connection refuses the frame.
    rig.lease(0, ALL, { images: good.images.subarray(784), labels: good.labels.subarray(1) });
    expect((await rig.errors.next()).message).toContain('E_BAD_LENGTH: lease.labels has 15 entries for 4 micro-batches');
    // Nothing was pulled, computed or pushed for any of them.
    expect([rig.ps.version, rig.ps.counters.accepted, rig.pulls.all.length]).toEqual([0, 0, 0]);

    // The worker goes on: the honest lease (the next leaseDone: none came for the undecodable one)
    // gives the bits of a worker with the data set.
    const honestLease = rig.lease(0, ALL);
    expect(await rig.leaseDone.next()).toMatchObject({ leaseId: honestLease, step: 0, microBatchIds: ALL });
    const honest = await startWorkerRig(job, DATASET);
    honest.lease(0, ALL);
    await honest.leaseDone.next();
    expect(sameBits(rig.ps.params, honest.ps.params)).toBe(true);
    expect(await rig.stop()).toMatchObject({ leases: 6, microBatches: 4 });
    await honest.stop();
  }, 30_000);
});

describe('in-memory cluster with a worker without the data set', () => {
  it('sync: one worker with the data set and one getting its samples with each lease give the bits of the reference trainer', async () => {
    const job = jobOf();
    const reference = await trainReference(job.config, DATASET);
    reference.model.dispose();
    const cluster = startCluster(job, 2, {
      samplesFromCoordinator: [1],
      onStep: (step, c) => {
        // The worker without the data set loses its coordinator connection: its lease is leased
        // again, and it registers again with samples.
        if (step === 4) c.toWorker[1][0].close(4013, 'test: coordinator side drops worker-1');
      },
    });
    const [result, w0, w1] = await cluster.run;
    expect(sameBits(result.params, reference.params)).toBe(true);
    expect(result.steps).toBe(12);
    expect(result.faults.map((f) => [f.kind, f.workerId])).toEqual([
      ['worker-disconnected', 1],
      ['worker-reconnected', 1],
    ]);
    expect(w1).toMatchObject({ reconnects: 1, shutdownReason: 'training finished' });
    // Both computed: the split mixes micro-batches of the two kinds of workers.
    expect(w0.microBatches).toBeGreaterThan(0);
    expect(w1.microBatches).toBeGreaterThan(0);
    expect(cluster.ps.counters.accepted).toBe(48);
  }, 30_000);
});
