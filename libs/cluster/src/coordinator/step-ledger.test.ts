import { describe, expect, it } from 'vitest';
import { StepLedger } from './step-ledger.js';

describe('StepLedger', () => {
  it('sync, 2 shards: a step closes when every micro-batch is done and both shards applied it', () => {
    const ledger = new StepLedger(2, 2, false);
    ledger.openStep(0);
    expect(ledger.take(0, Infinity)).toEqual([0, 1]);
    ledger.done(0, [1], [0.5]);
    // The lease of micro-batch 0 is lost: only 0 goes back (1 is done).
    expect(ledger.requeue(0, [0, 1])).toEqual([0]);
    expect(ledger.pending(0)).toEqual([0]);
    ledger.done(0, [0], [0.25]);
    ledger.done(0, [0], [9]); // a second report of the same id is ignored
    expect(ledger.isDone(0)).toBe(true);
    ledger.applied(0, 0, [0, 1], 0.01, 3);
    ledger.applied(0, 0, [0, 1], 0.01, 3); // shard 0 re-sends its report after a reconnect: counted once
    expect(ledger.isComplete(0)).toBe(false); // shard 1 has not reported
    ledger.applied(0, 1, [0, 1], 0.01, 4);
    expect(ledger.isComplete(0)).toBe(true);
    // loss (0.25 + 0.5) / 2; gradNorm √(3² + 4²) = 5 from the two slices' norms.
    expect(ledger.close(0)).toEqual({ loss: 0.375, lr: 0.01, gradNorm: 5 });
    expect(ledger.isOpen(0)).toBe(false);
  });

  it('async: the mean of the micro-batch updates’ norms and the last update’s learning rate', () => {
    const ledger = new StepLedger(2, 1, true);
    ledger.openStep(3);
    ledger.openStep(4);
    expect(ledger.openSteps()).toEqual([3, 4]);
    ledger.done(3, [0, 1], [1, 2]);
    ledger.applied(3, 0, [1], 0.1, 2);
    expect(ledger.isComplete(3)).toBe(false);
    ledger.applied(3, 0, [0], 0.2, 4);
    // loss (1 + 2) / 2; gradNorm (2 + 4) / 2.
    expect(ledger.close(3)).toEqual({ loss: 1.5, lr: 0.2, gradNorm: 3 });
  });

  it('sync: a step the shards applied is complete even when the pushing worker died before leaseDone', () => {
    // Worker A pushed micro-batches 1 and 3 (losses 0.3, 0.7) and died; they were re-leased, but
    // the shard had already applied the step, so the re-lease can never report them done.
    const ledger = new StepLedger(4, 1, false);
    ledger.openStep(7);
    ledger.take(7, Infinity);
    ledger.done(7, [0, 2], [0.1, 0.5]);
    expect(ledger.requeue(7, [1, 3])).toEqual([1, 3]);
    expect(ledger.isComplete(7)).toBe(false);
    ledger.applied(7, 0, [0, 1, 2, 3], 0.01, 2, [0.1, 0.3, 0.5, 0.7]);
    expect(ledger.pending(7)).toEqual([]);
    expect(ledger.isComplete(7)).toBe(true);
    // loss (0.1 + 0.3 + 0.5 + 0.7) / 4 = 0.4, the shard's losses filling the two the worker never sent.
    expect(ledger.close(7).loss).toBeCloseTo(0.4, 15);
  });

  it('sync, 2 shards: after a shard restart, the ids it had not applied are leased again, done or not', () => {
    const ledger = new StepLedger(3, 2, false);
    ledger.openStep(5);
    ledger.take(5, Infinity);
    ledger.done(5, [0, 1, 2], [0.1, 0.2, 0.3]);
    ledger.applied(5, 1, [0, 1, 2], 0.01, 4, [0.1, 0.2, 0.3]);
    // Shard 0 held the three pushes and died before applying them.
    expect(ledger.isComplete(5)).toBe(false);
    expect(ledger.reopen(5)).toEqual([0, 1, 2]);
    expect(ledger.isDone(5)).toBe(false);
    expect(ledger.take(5, Infinity)).toEqual([0, 1, 2]);
    ledger.done(5, [0, 1, 2], [0.1, 0.2, 0.3]);
    ledger.applied(5, 0, [0, 1, 2], 0.01, 3);
    // Shard 1's norm survived the reopen: √(3² + 4²).
    expect(ledger.close(5)).toEqual({ loss: (0.1 + 0.2 + 0.3) / 3, lr: 0.01, gradNorm: 5 });
  });

  it('reopen keeps what every shard applied', () => {
    const ledger = new StepLedger(2, 1, true);
    ledger.openStep(0);
    ledger.take(0, Infinity);
    ledger.applied(0, 0, [1], 0.1, 1, [0.5]);
    ledger.done(0, [0], [0.25]);
    expect(ledger.reopen(0)).toEqual([0]);
    expect(ledger.pending(0)).toEqual([0]);
  });
});
