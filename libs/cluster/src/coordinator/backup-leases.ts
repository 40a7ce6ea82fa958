import type { JobConfig } from '@dptrain/config';
import type { Logger } from '@dptrain/log';
import { LeaseState } from '../lifecycle.js';
import { decideBackup } from './backup-policy.js';
import type { LeaseEntry } from './leases.js';
import type { Roster, WorkerEntry } from './worker-entry.js';
import type { Refusals } from './refusals.js';
import type { StepLedger } from './step-ledger.js';

export interface BackupParts {
  readonly ledger: StepLedger;
  readonly roster: Roster;
  readonly refusals: Refusals;
  readonly config: Pick<JobConfig, 'backupAfter' | 'backupMinMs'>;
  readonly canLease: () => boolean;
  /** The step being leased. */
  readonly step: () => number;
  /** Leases a copy of `original`'s unfinished `ids` to `worker`. */
  readonly lease: (worker: WorkerEntry, step: number, ids: number[], original: LeaseEntry) => void;
  readonly log: Logger;
}

/**
 * Backup leases (sync): when the step being leased has nothing pending, an idle worker and a lease
 * running far longer than the step's finished ones (backup-policy.ts), a copy of that lease goes
 * to the idle worker; the first to finish wins and the other is revoked (leases.ts).
 */
export class BackupLeases {
  /** Durations of the finished leases of each open step. */
  private readonly finishedMs = new Map<number, number[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly parts: BackupParts) {}

  opened(step: number): void {
    this.finishedMs.set(step, []);
  }

  finished(step: number, ms: number): void {
    this.finishedMs.get(step)?.push(ms);
  }

  closed(step: number): void {
    this.finishedMs.delete(step);
  }

  /** Leases a backup copy now, or sets a timer for when the oldest running lease will straggle. */
  consider(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { ledger, roster, refusals, config } = this.parts;
    const step = this.parts.step();
    if (!this.parts.canLease() || ledger.pending(step).length > 0) return;
    const idle = roster.idle();
    if (idle.length === 0) return;
    const running = roster
      .all()
      .map((w) => w.lease)
      .filter((l): l is LeaseEntry => l !== undefined && l.step === step && l.state === LeaseState.Active && !l.backedUp && l.backupOf === undefined);
    const decision = decideBackup(
      running.map((l) => ({ id: l.id, startedAt: l.startedAt })),
      this.finishedMs.get(step) ?? [],
      config.backupAfter,
      performance.now(),
      config.backupMinMs,
    );
    if (decision.kind === 'wait') {
      this.timer = setTimeout(() => this.consider(), Math.max(1, decision.atMs - performance.now()));
      this.timer.unref();
      return;
    }
    if (decision.kind !== 'backup') return;
    const original = running.find((l) => l.id === decision.leaseId)!;
    const ids = original.ids.filter((id) => !ledger.isIdDone(original.step, id));
    const helper = idle.find((w) => ids.every((id) => !refusals.refused(w.id, original.step, id)));
    if (ids.length === 0 || !helper) return;
    original.backedUp = true;
    original.worker.leasesBackedUp++;
    helper.backupLeases++;
    this.parts.lease(helper, original.step, ids, original);
    this.parts.log({
      level: 'info',
      event: 'backup-leased',
      step: original.step,
      leaseId: original.id,
      ranMs: Math.round(performance.now() - original.startedAt),
      straggler: original.worker.name,
      helper: helper.name,
      microBatchIds: ids,
    });
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
