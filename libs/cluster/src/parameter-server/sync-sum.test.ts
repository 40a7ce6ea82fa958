import type { MessageOf } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import { policyRig, thrownCode, type PolicyRig } from './shard-rig.js';
import { SyncSum } from './sync-sum.js';

// M = 4 micro-batches per step; the policy folds gradients of any length, here 3.
const P = 3;
let seq = 0;

/**
 * Component 0 sums differently in another order (float32 spacing at 1e8 is 8): in id order
 * ((1e8 + 3) + 3) − 1e8 = 0, while 3 + 3 + (−1e8) + 1e8 = 8. Component 1 is exact; component 2 is −0.
 */
const grad = (step: number, id: number): Float32Array => Float32Array.of([1e8, 3, 3, -1e8][id]!, (id + 1) / 2 + step, -0);

const push = (step: number, id: number): MessageOf<'push'> => ({
  type: 'push',
  seq: seq++,
  step,
  microBatchId: id,
  version: step,
  generation: 0,
  offset: 0,
  grads: grad(step, id),
  loss: id / 10,
  samples: 2,
});

function pushRun(step: number, first: number, count: number): MessageOf<'pushRun'> {
  const grads = new Float32Array(P);
  for (let id = first; id < first + count; id++) grad(step, id).forEach((g, i) => (grads[i] = grads[i]! + g));
  return {
    type: 'pushRun',
    seq: seq++,
    step,
    microBatchId: first,
    count,
    version: step,
    generation: 0,
    offset: 0,
    grads,
    losses: Array.from({ length: count }, (_, j) => (first + j) / 10),
  };
}

function sync(overrides: Record<string, unknown> = {}): { rig: PolicyRig; policy: SyncSum } {
  const rig = policyRig(P);
  return { rig, policy: new SyncSum(rig.host, tinyJob(overrides)) };
}

describe('SyncSum', () => {
  it('folds a step in micro-batch id order whatever order the pushes arrive in, then asks for one update', () => {
    const { rig, policy } = sync();
    for (const id of [2, 1, 3]) policy.push(rig.connection, push(0, id));
    expect(rig.records).toEqual([]);
    policy.push(rig.connection, push(0, 0));
    expect(rig.acks.map((a) => a.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(rig.records).toHaveLength(1);
    const [record] = rig.records;
    // mean = sum / 4: [0, (0.5 + 1 + 1.5 + 2) / 4 = 1.25, +0 (a sum folded from +0 is never −0)]
    expect(Array.from(record!.grad)).toEqual([0, 1.25, 0]);
    expect(Object.is(record!.grad[2], 0)).toBe(true);
    expect(record).toMatchObject({ step: 0, version: 0, microBatchIds: [0, 1, 2, 3], losses: [0, 0.1, 0.2, 0.3] });
  });

  it('starts the next step from an empty sum', () => {
    const { rig, policy } = sync();
    for (const step of [0, 1]) for (const id of [3, 2, 1, 0]) policy.push(rig.connection, push(step, id));
    // step 1: component 1 is (1.5 + 2 + 2.5 + 3) / 4 = 2.25
    expect(rig.records.map((r) => Array.from(r.grad))).toEqual([
      [0, 1.25, 0],
      [0, 2.25, 0],
    ]);
  });

  it('answers a repeat and an applied step duplicate, a step ahead rejected, and folds neither', () => {
    const { rig, policy } = sync();
    policy.push(rig.connection, push(0, 1));
    policy.push(rig.connection, push(0, 1));
    policy.push(rig.connection, push(1, 0));
    for (const id of [0, 2, 3]) policy.push(rig.connection, push(0, id));
    policy.push(rig.connection, push(0, 2));
    expect(rig.acks.filter((a) => a.status !== 'accepted')).toEqual([
      { status: 'duplicate', reason: 'step 0 micro-batch 1 was already received', step: 0, microBatchId: 1 },
      { status: 'rejected', reason: "step 1 is ahead of shard 0's current step 0; pull step 1 first", step: 1, microBatchId: 0 },
      { status: 'duplicate', reason: 'step 0 micro-batch 2 was already received', step: 0, microBatchId: 2 },
    ]);
    expect(rig.records.map((r) => r.grad[1])).toEqual([1.25]);
  });

  it('adds a run only to an empty sum at micro-batch 0: the same mean as single pushes', () => {
    const { rig, policy } = sync();
    policy.push(rig.connection, push(0, 1));
    policy.pushRun(rig.connection, pushRun(0, 2, 2));
    policy.push(rig.connection, push(0, 0));
    for (const id of [2, 3]) policy.push(rig.connection, push(0, id));
    policy.pushRun(rig.connection, pushRun(1, 0, 2));
    for (const id of [3, 2]) policy.push(rig.connection, push(1, id));
    policy.pushRun(rig.connection, pushRun(2, 0, 4));
    expect(rig.acks.filter((a) => a.status === 'split')).toEqual([
      {
        status: 'split',
        reason:
          'shard 0 has folded 0 and holds 1 micro-batches of step 0; a run is added only to an empty sum at micro-batch 0: push micro-batches 2..3 one by one',
        step: 0,
        microBatchId: 2,
      },
    ]);
    // step 2, the whole step in one run: (2.5 + 3 + 3.5 + 4) / 4 = 3.25
    expect(rig.records.map((r) => Array.from(r.grad))).toEqual([
      [0, 1.25, 0],
      [0, 2.25, 0],
      [0, 3.25, 0],
    ]);
    expect(rig.records.map((r) => r.losses)).toEqual(new Array(3).fill([0, 0.1, 0.2, 0.3]));
  });

  it('splits every run when maxGradNorm judges each micro-batch alone', () => {
    const { rig, policy } = sync({ maxGradNorm: 1e9 });
    policy.pushRun(rig.connection, pushRun(0, 0, 4));
    expect(rig.acks).toEqual([
      {
        status: 'split',
        reason: 'the job sets maxGradNorm, which judges each micro-batch alone: push micro-batches 0..3 one by one',
        step: 0,
        microBatchId: 0,
      },
    ]);
    expect(rig.records).toEqual([]);
  });

  it('answers a pull of the current step, parks one ahead, refuses an older one it does not keep', () => {
    const { rig, policy } = sync();
    const pull = (step: number): MessageOf<'pull'> => ({ type: 'pull', seq: seq++, step });
    for (const id of [0, 1, 2, 3]) policy.push(rig.connection, push(0, id));
    policy.pullStep(rig.connection, pull(1));
    policy.pullStep(rig.connection, pull(3));
    expect(rig.answered).toEqual([{ view: undefined }]);
    expect(rig.parked).toEqual([{ wanted: 3, ahead: 2 }]);
    expect(thrownCode(() => policy.pullStep(rig.connection, pull(0)))).toBe('E_STALE');
  });
});
