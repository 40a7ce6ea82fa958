import { BackupLeases } from './backup-leases.js';
import type { LeasePolicy, PolicyParts } from './lease-policy.js';
import type { WorkerEntry } from './worker-entry.js';

/**
 * Synchronous mode (CLUSTER.md, synchronous step 7): the micro-batches of step t are split
 * round-robin over the idle workers, and step t+1 is leased once every micro-batch of t is done,
 * so the shards apply t while t+1 is computed; an epoch's end waits for its evaluation. The
 * version of step t is t. A straggling lease gets a backup copy on an idle worker (backup-leases.ts).
 */
export class SyncPolicy implements LeasePolicy {
  static readonly perMicroBatchUpdates = false;
  static readonly resumable = true;
  /** The step being leased: the lowest step not complete, or the next while the shards apply it. */
  private leasing: number;
  private readonly backups: BackupLeases;

  constructor(private readonly parts: PolicyParts) {
    this.leasing = parts.firstStep;
    this.backups = new BackupLeases({
      ...parts,
      step: () => this.leasing,
      lease: (worker, step, ids, original) => parts.lease(worker, step, ids, step, original),
    });
  }

  start(): void {
    this.open(this.leasing);
  }

  assign(idle: readonly WorkerEntry[], closed: number): void {
    const { ledger, refusals } = this.parts;
    // The step being leased may have closed meanwhile (a shard's report finished it while a worker
    // that then died still owed its leaseDone): move on first, or nothing would ever be leased.
    this.advance(closed);
    const step = this.leasing;
    const ids = ledger.take(step, Number.POSITIVE_INFINITY);
    const shares = idle.map(() => [] as number[]);
    const held: number[] = [];
    ids.forEach((id, i) => {
      // Contiguous blocks (worker k: the k-th of idle.length equal slices), so that the worker
      // holding micro-batch 0 holds a leading run and pushes it as one sum (pushRun); a
      // micro-batch refused to a worker as poisoned goes to the next one.
      const home = Math.floor((i * idle.length) / ids.length);
      const k = [...idle.keys()].map((j) => (home + j) % idle.length).find((j) => !refusals.refused(idle[j].id, step, id));
      if (k === undefined) held.push(id);
      else shares[k].push(id);
    });
    if (held.length > 0) ledger.requeue(step, held);
    idle.forEach((worker, k) => {
      if (shares[k].length > 0)
        this.parts.lease(
          worker,
          step,
          shares[k].sort((a, b) => a - b),
          step,
        );
    });
    this.backups.consider();
  }

  /**
   * Once every micro-batch of the step being leased is done, lease the next step, unless an
   * evaluation or the end comes first. Each shard has then received every push of the step and
   * applies it before serving any pull of the next one, so the workers' pulls (held at the shard)
   * wait only for that apply, not for the coordinator to hear of it.
   */
  advance(closed: number): void {
    const { ledger, plan } = this.parts;
    // A step the closer already closed (the shards' losses completed it before a leaseDone) is done too.
    while (ledger.isDone(this.leasing) || this.leasing < closed) {
      const next = this.leasing + 1;
      if (next >= plan.totalSteps || next % plan.stepsPerEpoch === 0) return;
      this.leasing = next;
      this.open(next);
    }
  }

  applied(step: number, closed: number): void {
    if (step >= closed && !this.parts.ledger.isOpen(step)) this.parts.ledger.openStep(step);
  }

  reopened(closed: number): void {
    this.leasing = Math.max(closed, Math.min(this.leasing, ...this.parts.ledger.openSteps()));
  }

  evaluated(steps: number): void {
    this.leasing = steps;
    this.open(steps);
  }

  leaseFinished(step: number, ms: number): void {
    this.backups.finished(step, ms);
  }

  stepClosed(step: number): void {
    this.backups.closed(step);
  }

  pullAt(steps: number): { step: number } {
    return { step: steps };
  }

  lostSteps(version: number, closed: number): boolean {
    return version < closed;
  }

  stop(): void {
    this.backups.stop();
  }

  private open(step: number): void {
    this.parts.ledger.openStep(step);
    this.backups.opened(step);
  }
}
