import type { MessageOf } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { tinyJob } from '../testing.js';
import { AsyncApply } from './async-apply.js';
import { policyRig, thrownCode, type PolicyRig } from './shard-rig.js';
import { UpdatePhase } from './update-phases.js';

let seq = 0;
const push = (step: number, id: number, version: number): MessageOf<'push'> => ({
  type: 'push',
  seq: seq++,
  step,
  microBatchId: id,
  version,
  generation: 0,
  offset: 0,
  grads: Float32Array.of(id, -id),
  loss: id / 10,
  samples: 2,
});

/** An async policy with staleness bound 2 over a fake shard at `version`. */
function asyncAt(version: number): { rig: PolicyRig; policy: AsyncApply } {
  const rig = policyRig(2);
  rig.state.version = version;
  return { rig, policy: new AsyncApply(rig.host, tinyJob({ mode: 'async', staleness: 2 })) };
}

describe('AsyncApply', () => {
  it('applies a push computed up to `staleness` versions back, at once, and reports it', () => {
    const { rig, policy } = asyncAt(5);
    policy.push(rig.connection, push(1, 0, 3));
    expect(rig.records).toEqual([expect.objectContaining({ version: 5, step: 1, microBatchIds: [0], losses: [0], pushedVersion: 3 })]);
    expect(rig.acks).toEqual([{ status: 'accepted', reason: undefined, step: 1, microBatchId: 0 }]);
    expect(rig.reported).toHaveLength(1);
    expect(rig.served).toBe(1);
    expect(rig.state.version).toBe(6);
  });

  it.each([
    ['stale, one version past the bound', 2, 'stale', 'computed on version 2, 3 updates behind version 5; the bound is 2'],
    ['rejected, computed on a version the shard has not reached', 6, 'rejected', "version 6 is ahead of shard 0's version 5"],
  ])('answers a push %s', (_, version, status, reason) => {
    const { rig, policy } = asyncAt(5);
    policy.push(rig.connection, push(1, 0, version));
    expect(rig.acks).toEqual([{ status, reason, step: 1, microBatchId: 0 }]);
    expect(rig.records).toEqual([]);
  });

  it('answers a (step, micro-batch) applied before duplicate, whether it knew before or the update found out', () => {
    const { rig, policy } = asyncAt(5);
    rig.state.applied.add('1/2');
    policy.push(rig.connection, push(1, 2, 5));
    rig.outcome = UpdatePhase.Skipped;
    policy.push(rig.connection, push(1, 3, 5));
    expect(rig.acks.map((a) => [a.status, a.reason])).toEqual([
      ['duplicate', 'step 1 micro-batch 2 was already applied'],
      ['duplicate', 'step 1 micro-batch 3 was already applied'],
    ]);
    expect(rig.records.map((r) => r.microBatchIds)).toEqual([[3]]);
    expect(rig.reported).toEqual([]);
  });

  it('turns a refused update into E_NON_FINITE for the pusher, without an ack or a report', () => {
    const { rig, policy } = asyncAt(5);
    rig.outcome = UpdatePhase.Refused;
    expect(thrownCode(() => policy.push(rig.connection, push(1, 0, 5)))).toBe('E_NON_FINITE');
    expect(rig.acks).toEqual([]);
    expect(rig.reported).toEqual([]);
  });

  it('refuses runs and pulls of a step: they are for synchronous jobs', () => {
    const { rig, policy } = asyncAt(0);
    const run: MessageOf<'pushRun'> = {
      type: 'pushRun',
      seq: seq++,
      step: 0,
      microBatchId: 0,
      count: 2,
      version: 0,
      generation: 0,
      offset: 0,
      grads: new Float32Array(2),
      losses: [0, 0],
    };
    expect(thrownCode(() => policy.pushRun(rig.connection, run))).toBe('E_MALFORMED');
    expect(thrownCode(() => policy.pullStep(rig.connection, { type: 'pull', seq: seq++, step: 0 }))).toBe('E_MALFORMED');
  });
});
