import { describe, expect, it } from 'vitest';
import { AsyncPolicy } from './async-policy.js';
import { idleWorkers, policyParts } from './test-support.js';

// M = 4 micro-batches per step, 2 steps per epoch, 4 steps in all.
const plan = { totalSteps: 4, stepsPerEpoch: 2, microBatchesPerStep: 4 };

describe('AsyncPolicy', () => {
  it("leases each idle worker up to ⌈M/W⌉ micro-batches of the lowest step that has some, at the shards' version", () => {
    const idle = idleWorkers(3);
    const parts = policyParts(plan, idle, 7);
    new AsyncPolicy(parts).assign(idle, 0);
    // ⌈4/3⌉ = 2: step 0 is shared by workers 0 and 1, worker 2 opens step 1.
    expect(parts.leased).toEqual([
      { worker: 0, step: 0, ids: [0, 1], version: 7 },
      { worker: 1, step: 0, ids: [2, 3], version: 7 },
      { worker: 2, step: 1, ids: [0, 1], version: 7 },
    ]);
  });

  it('leases a micro-batch put back into an older step before opening a new one', () => {
    const idle = idleWorkers(2);
    const parts = policyParts(plan, idle);
    const policy = new AsyncPolicy(parts);
    policy.assign(idle, 0);
    // Worker 0 gave micro-batch 1 back (a shard answered it stale).
    parts.ledger.requeue(0, [1]);
    policy.assign(idle.slice(0, 1), 0);
    expect(parts.leased.map((l) => [l.worker, l.step, l.ids])).toEqual([
      [0, 0, [0, 1]],
      [1, 0, [2, 3]],
      [0, 0, [1]],
    ]);
  });

  it("opens no step of the next epoch until the current epoch's steps are closed", () => {
    const idle = idleWorkers(1);
    const parts = policyParts(plan, idle);
    const policy = new AsyncPolicy(parts);
    for (let i = 0; i < 3; i++) policy.assign(idle, 0);
    expect(parts.leased.map((l) => l.step)).toEqual([0, 1]);
    policy.assign(idle, 2);
    expect(parts.leased.map((l) => l.step)).toEqual([0, 1, 2]);
  });

  it('pulls by version (M applied micro-batches a step) and never finds a shard behind', () => {
    const policy = new AsyncPolicy(policyParts(plan, []));
    expect(policy.pullAt(3)).toEqual({ minVersion: 12 });
    expect(policy.lostSteps()).toBe(false);
  });
});
