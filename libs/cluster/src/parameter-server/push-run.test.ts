import { accumulate } from '@dptrain/optim';
import { createMemoryPair, type Connection } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import type { JobDescription } from '@dptrain/job';
import { ParameterServer, type AppliedReport } from './parameter-server.js';

const P = 26; // MLP 3-4-2

function serve(job: JobDescription): { ps: ParameterServer; worker: Connection; applied: AppliedReport[] } {
  const applied: AppliedReport[] = [];
  const ps = new ParameterServer({ job, shard: 0, onApplied: (report) => applied.push(report) });
  const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount: P } }, b: { role: 'ps', validateOptions: ps.validateOptions(P) } });
  ps.attach(pair.b);
  return { ps, worker: pair.a, applied };
}

/**
 * Gradients whose float32 sum depends on the order of the additions (float32 spacing at 1e8 is 8:
 * 1e8 swallows a 3 but not the 6 of two 3s added first) and which hold −0 and +0, where 0 + (−0) = +0 but −0 + (−0) = −0.
 */
function grad(id: number): Float32Array {
  return Float32Array.from({ length: P }, (_, i) => {
    if (i === 0) return [1e8, 3, 3, -1e8][id] ?? 0;
    if (i === 1) return -0;
    if (i === 2) return id % 2 === 0 ? -0 : 0;
    return ((id + 1) * (i + 1)) / 64 + (id === 2 ? 1e-7 * i : 0);
  });
}

/** What a worker pushes for micro-batches first..first+count−1: their sum folded from zero in id order. */
function runSum(first: number, count: number): Float32Array {
  const sum = new Float32Array(P);
  for (let id = first; id < first + count; id++) accumulate(sum, grad(id));
  return sum;
}

function push(worker: Connection, step: number, id: number) {
  return worker.request({ type: 'push', step, microBatchId: id, version: step, generation: 0, offset: 0, grads: grad(id), loss: id / 8, samples: 2 });
}

function pushRun(worker: Connection, step: number, first: number, count: number) {
  const losses = Array.from({ length: count }, (_, j) => (first + j) / 8);
  return worker.request({ type: 'pushRun', step, microBatchId: first, count, version: step, generation: 0, offset: 0, grads: runSum(first, count), losses });
}

const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** The shard's parameters after steps 0 and 1 from four single pushes each, in id order. */
async function singlesReference(job: JobDescription): Promise<string> {
  const { ps, worker } = serve(job);
  for (const step of [0, 1]) for (const id of [0, 1, 2, 3]) await push(worker, step, id);
  return bits(ps.params);
}

describe('ParameterServer pushRun (sync)', () => {
  it('a run of micro-batches 0..3 summed from zero gives the bits of four single pushes, losses per micro-batch', async () => {
    const job = tinyJob();
    const { ps, worker, applied } = serve(job);
    for (const step of [0, 1]) expect((await pushRun(worker, step, 0, 4)).status).toBe('accepted');
    expect(ps.version).toBe(2);
    expect(bits(ps.params)).toBe(await singlesReference(job));
    expect(applied[1]).toMatchObject({ step: 1, microBatchIds: [0, 1, 2, 3], losses: [0, 1 / 8, 2 / 8, 3 / 8] });
    expect(ps.counters).toMatchObject({ accepted: 8, split: 0 });
  });

  it('a run of 0..1 next to single pushes of 2 and 3 (one arriving early) gives the same bits', async () => {
    const job = tinyJob();
    const { ps, worker } = serve(job);
    for (const step of [0, 1]) {
      expect((await push(worker, step, 3)).status).toBe('accepted');
      expect((await pushRun(worker, step, 0, 2)).status).toBe('accepted');
      expect((await push(worker, step, 2)).status).toBe('accepted');
    }
    expect(bits(ps.params)).toBe(await singlesReference(job));
  });

  it('the order matters: a run not starting at 0 would differ, so the shard answers split and keeps nothing of it', async () => {
    // Folded one by one, ((0 + 1e8) + 3) + 3 = 1e8; the run 1..2 pre-summed adds 6 at once: 1e8 + 8.
    const one = new Float32Array(1);
    for (const g of [1e8, 3, 3]) accumulate(one, Float32Array.of(g));
    const presummed = Float32Array.of(1e8);
    accumulate(presummed, Float32Array.of(runSum(1, 2)[0]));
    expect(one[0]).not.toBe(presummed[0]);

    const job = tinyJob();
    const { ps, worker } = serve(job);
    expect((await push(worker, 0, 0)).status).toBe('accepted');
    const ack = await pushRun(worker, 0, 1, 2);
    expect(ack.status).toBe('split');
    expect(ack.reason).toMatch(/push micro-batches 1\.\.2 one by one/);
    for (const id of [1, 2, 3]) expect((await push(worker, 0, id)).status).toBe('accepted');
    for (const id of [0, 1, 2, 3]) await push(worker, 1, id);
    expect(bits(ps.params)).toBe(await singlesReference(job));
    expect(ps.counters).toMatchObject({ accepted: 8, split: 1 });
  });

  it('answers split when a micro-batch of the run was already received alone, and duplicate when all were', async () => {
    const job = tinyJob();
    const { ps, worker } = serve(job);
    expect((await push(worker, 0, 1)).status).toBe('accepted');
    expect((await pushRun(worker, 0, 0, 4)).status).toBe('split');
    for (const id of [0, 2, 3]) await push(worker, 0, id);
    // A backup lease's run of a step already applied, and of a step whose micro-batches all arrived.
    expect((await pushRun(worker, 0, 0, 4)).status).toBe('duplicate');
    expect((await pushRun(worker, 1, 0, 4)).status).toBe('accepted');
    expect((await pushRun(worker, 1, 0, 4)).status).toBe('duplicate');
    expect(bits(ps.params)).toBe(await singlesReference(job));
    expect(ps.counters).toMatchObject({ accepted: 8, duplicate: 8, split: 1 });
  });

  it('answers split when the job sets maxGradNorm (each micro-batch is judged alone)', async () => {
    const { ps, worker } = serve(tinyJob({ maxGradNorm: 1e12 }));
    expect((await pushRun(worker, 0, 0, 4)).status).toBe('split');
    expect(ps.version).toBe(0);
  });

  it('refuses runs past the step, async jobs, and losses that do not match count, naming the cause', async () => {
    const { worker } = serve(tinyJob());
    await expect(pushRun(worker, 0, 2, 3)).rejects.toMatchObject({ code: 'E_RANGE', message: expect.stringMatching(/past the 4 micro-batches per step/) });
    await expect(
      worker.request({ type: 'pushRun', step: 0, microBatchId: 0, count: 2, version: 0, generation: 0, offset: 0, grads: runSum(0, 2), losses: [0] }),
    ).rejects.toMatchObject({ code: 'E_BAD_LENGTH', message: expect.stringMatching(/losses has 1 entries for count 2/) });
    const asyncShard = serve(tinyJob({ mode: 'async', staleness: 2 }));
    await expect(pushRun(asyncShard.worker, 0, 0, 2)).rejects.toMatchObject({ code: 'E_MALFORMED', message: expect.stringMatching(/synchronous mode/) });
  });
});
