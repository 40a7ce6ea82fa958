import { describe, expect, it } from 'vitest';
import { SyncPolicy } from './sync-policy.js';
import { idleWorkers, policyParts } from './test-support.js';

// M = 4 micro-batches per step, 3 steps per epoch, 6 steps in all.
const plan = { totalSteps: 6, stepsPerEpoch: 3, microBatchesPerStep: 4 };
const loss = (ids: readonly number[]): number[] => ids.map(() => 0.5);

function syncPolicy(workers = 3) {
  const idle = idleWorkers(workers);
  const parts = policyParts(plan, idle);
  const policy = new SyncPolicy(parts);
  policy.start();
  const finish = (step: number, ids: readonly number[]): void => parts.ledger.done(step, ids, loss(ids));
  return { idle, parts, policy, finish };
}

describe('SyncPolicy', () => {
  it("splits a step into contiguous blocks over the idle workers, each leased at the step's version", () => {
    const { idle, parts, policy } = syncPolicy(3);
    policy.assign(idle, 0);
    // Micro-batch i goes to worker ⌊i·3/4⌋: 0, 0, 1, 2.
    expect(parts.leased).toEqual([
      { worker: 0, step: 0, ids: [0, 1], version: 0 },
      { worker: 1, step: 0, ids: [2], version: 0 },
      { worker: 2, step: 0, ids: [3], version: 0 },
    ]);
  });

  it('gives a micro-batch refused to its worker to the next one, and holds back one refused to every idle worker', () => {
    const { idle, parts, policy } = syncPolicy(3);
    parts.refusals.record(0, 0, [1]);
    for (const w of [0, 1, 2]) parts.refusals.record(w, 0, [3]);
    policy.assign(idle, 0);
    expect(parts.leased.map((l) => [l.worker, l.ids])).toEqual([
      [0, [0]],
      [1, [1, 2]],
    ]);
    expect(parts.ledger.pending(0)).toEqual([3]);
  });

  it('leases step t+1 only once every micro-batch of t is done, and stops at an epoch end until its evaluation', () => {
    const { idle, parts, policy, finish } = syncPolicy(1);
    policy.assign(idle, 0);
    finish(0, [0, 1, 2]);
    policy.assign(idle, 0);
    expect(parts.leased.map((l) => l.step)).toEqual([0]);
    finish(0, [3]);
    policy.assign(idle, 0);
    finish(1, [0, 1, 2, 3]);
    policy.assign(idle, 0);
    finish(2, [0, 1, 2, 3]);
    // Step 3 starts epoch 2: nothing is leased until the evaluation after 3 steps is over.
    policy.assign(idle, 0);
    expect(parts.leased.map((l) => l.step)).toEqual([0, 1, 2]);
    policy.evaluated(3);
    policy.assign(idle, 3);
    expect(parts.leased.map((l) => [l.step, l.ids])).toEqual([
      [0, [0, 1, 2, 3]],
      [1, [0, 1, 2, 3]],
      [2, [0, 1, 2, 3]],
      [3, [0, 1, 2, 3]],
    ]);
  });

  it('goes back to the lowest open step when a shard restart makes its micro-batches pending again', () => {
    const { idle, parts, policy, finish } = syncPolicy(1);
    policy.assign(idle, 0);
    finish(0, [0, 1, 2, 3]);
    policy.assign(idle, 0);
    expect(parts.leased.at(-1)).toMatchObject({ step: 1 });
    // No shard applied step 0: all of it is pending again.
    expect(parts.ledger.reopen(0)).toEqual([0, 1, 2, 3]);
    policy.reopened(0);
    policy.assign(idle, 0);
    expect(parts.leased.at(-1)).toEqual({ worker: 0, step: 0, ids: [0, 1, 2, 3], version: 0 });
  });

  it('opens a step a shard reports applied unless it is already closed; pulls by step; a shard behind the closed steps lost some', () => {
    const { parts, policy } = syncPolicy();
    policy.applied(4, 3);
    policy.applied(2, 3);
    expect(parts.ledger.openSteps()).toEqual([0, 4]);
    expect(policy.pullAt(4)).toEqual({ step: 4 });
    expect([policy.lostSteps(2, 3), policy.lostSteps(3, 3)]).toEqual([true, false]);
  });
});
