import type { LeasePolicy, PolicyParts } from './lease-policy.js';
import type { WorkerEntry } from './worker-entry.js';

/**
 * Asynchronous mode (stale-synchronous): the steps of the current epoch open as workers ask for
 * work, each idle worker leasing up to ⌈M/W⌉ pending micro-batches of the lowest step that has
 * some; the next epoch opens after the evaluation. Shards apply each micro-batch as it arrives and
 * count versions in micro-batches, so nothing waits for a step to be applied.
 */
export class AsyncPolicy implements LeasePolicy {
  static readonly perMicroBatchUpdates = true;
  static readonly resumable = false;
  /** The next step of the current epoch not yet opened. */
  private nextToOpen = 0;

  constructor(private readonly parts: PolicyParts) {}

  assign(idle: readonly WorkerEntry[], closed: number): void {
    const chunk = Math.ceil(this.parts.plan.microBatchesPerStep / Math.max(1, this.parts.roster.notDead()));
    for (const worker of idle) {
      const next = this.nextWork(chunk, closed);
      if (!next) return;
      // The newest version every shard reported, so the worker's pull never waits.
      this.parts.lease(worker, next.step, next.ids, this.parts.shardVersion());
    }
  }

  pullAt(steps: number): { minVersion: number } {
    return { minVersion: steps * this.parts.plan.microBatchesPerStep };
  }

  /** An async job is not resumed, so a shard has nothing to be behind of. */
  lostSteps(): boolean {
    return false;
  }

  /** Up to `max` pending ids of the lowest open step that has some, opening steps of the current epoch as needed. */
  private nextWork(max: number, closed: number): { step: number; ids: number[] } | undefined {
    const { ledger, plan } = this.parts;
    for (const step of ledger.openSteps()) {
      if (ledger.pending(step).length > 0) return { step, ids: ledger.take(step, max) };
    }
    const epochEnd = Math.min(plan.totalSteps, (Math.floor(closed / plan.stepsPerEpoch) + 1) * plan.stepsPerEpoch);
    if (this.nextToOpen >= epochEnd) return undefined;
    const step = this.nextToOpen++;
    ledger.openStep(step);
    return { step, ids: ledger.take(step, max) };
  }
}
