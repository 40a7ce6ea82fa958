import { withCode } from '@dptrain/errors';
import type { Logger, Spans } from '@dptrain/log';
import type { ShardDurability } from './shard-durability.js';
import { NonFiniteUpdate, type ShardState } from './shard-state.js';
import type { AppliedReport } from './shard-types.js';
import { advance, UpdatePhase } from './update-phases.js';
import type { WalRecord } from './write-ahead-log.js';

/** The write-ahead log could not record an update the workers already have: the shard must restart. */
class WalAppendError extends withCode('E_WAL_APPEND') {}

/**
 * The longest a served update's log append and report wait for its replies to be written: a peer
 * that stopped reading (a frozen worker with full socket buffers) must not hold up stepApplied.
 */
export const SETTLE_WAIT_MS = 50;

export interface UpdateHooks {
  readonly shard: number;
  readonly log: Logger;
  readonly spans: Spans;
  /** Answers the pulls parked for the current version; each promise settles when its reply is written. */
  serve(): Promise<boolean>[];
  /** The shard refuses the update (it is not finite) and serves nothing more. */
  refuse(step: number, reason: string): void;
  /** A live update is reported, after its checkpoint when one is due. */
  onApplied(report: AppliedReport): void;
  /** The log append of an update already served failed: the shard must stop. */
  onFatal(error: Error): void;
}

/** One update on its way through the phases of update-phases.ts. */
export class ShardUpdate {
  private current = UpdatePhase.Folded;
  /** Set when Admitted: the gradient's ℓ2 norm before clipping. */
  gradNorm = Number.NaN;
  /** Set when Applied. */
  report: AppliedReport | undefined;
  /** Set when Refused. */
  reason = '';

  constructor(readonly record: WalRecord) {}

  get phase(): UpdatePhase {
    return this.current;
  }

  to(phase: UpdatePhase): void {
    this.current = advance(this.current, phase);
  }
}

/**
 * Runs a shard's updates through their phases (update-phases.ts) over its ShardState: admission,
 * the write-ahead log, the optimizer step, serving, reporting. At most one update waits Served for
 * its replies to be written before it is logged and reported; `settle()` finishes it at once, and
 * the shard calls it before anything that must see it logged.
 */
export class ShardUpdates {
  /** Checkpoints and the write-ahead log, once the shard is durable. */
  durability: ShardDurability | undefined;
  /** Wall time of live updates (log record, previous point, optimizer, batch-norm statistics). */
  applyMs = 0;
  private waiting: ShardUpdate | undefined;

  constructor(
    private readonly state: ShardState,
    private readonly hooks: UpdateHooks,
  ) {}

  /**
   * Sync: the step's update, served first. Every worker waits on the pulls parked for the new
   * version, so they are answered as soon as the update is made. Node writes what a socket takes
   * at once and the rest when the event loop polls again, so the log record and stepApplied wait
   * until the replies are written; any message arriving meanwhile settles first. A crash before
   * the record is logged loses an update the coordinator was never told of: it leases the step
   * again, and the recomputed gradients give the same bits. An update rule that clips changes the
   * gradient in place, so then the record is logged first.
   */
  serveStep(record: WalRecord): void {
    const update = this.admit(record);
    const logFirst = this.state.changesGradient;
    if (update.phase === UpdatePhase.Admitted && logFirst) this.log(update);
    if (!this.apply(update)) return;
    update.to(UpdatePhase.Served);
    const endReply = this.hooks.spans.begin('reply', { step: record.step, version: record.version });
    const written = this.hooks.serve();
    void Promise.allSettled(written).then(() => endReply({ pulls: written.length }));
    if (logFirst) this.report(update);
    else this.reportOnceWritten(update, written);
  }

  /** Async: one push's update, logged before it is made. Returns it Applied, Skipped or Refused; `report` finishes it. */
  applyNow(record: WalRecord): ShardUpdate {
    const update = this.admit(record);
    if (update.phase === UpdatePhase.Admitted) this.log(update);
    this.apply(update);
    return update;
  }

  /** An update read back from the write-ahead log on resume; one that is not finite stops the shard from opening. */
  replay(record: WalRecord): void {
    const update = new ShardUpdate(record);
    const norm = this.state.admit(record);
    if (norm === undefined) return update.to(UpdatePhase.Skipped);
    update.to(UpdatePhase.Admitted);
    this.state.keep(this.state.apply(record, norm));
    update.to(UpdatePhase.Applied);
    update.to(UpdatePhase.Restored);
  }

  /** Checkpoint when due, then tell the coordinator. */
  report(update: ShardUpdate): void {
    const started = performance.now();
    this.state.keep(update.report!);
    this.applyMs += performance.now() - started;
    update.to(UpdatePhase.Reported);
    if (this.durability?.due(this.state.version)) this.durability.checkpoint(this.state.snapshot());
    this.hooks.onApplied(update.report!);
  }

  /**
   * Logs and reports the update waiting for its replies; only while `which` (when given) is still
   * the one waiting: a late call for an update settled meanwhile does nothing.
   */
  settle(which?: ShardUpdate): void {
    const update = this.waiting;
    if (!update || (which !== undefined && which !== update)) return;
    this.waiting = undefined;
    const { version } = update.record;
    const started = performance.now();
    try {
      this.durability?.append(update.record);
      this.applyMs += performance.now() - started;
    } catch (error) {
      const { shard, log } = this.hooks;
      const failure = new WalAppendError(
        `shard ${shard}: the write-ahead log append of version ${version} failed after the update was served (${String(error)}); stop this shard and restart it with --resume`,
        { cause: error },
      );
      log({ level: 'error', event: 'wal-append-failed', shard, version, message: failure.message });
      this.hooks.onFatal(failure);
      return;
    }
    update.to(UpdatePhase.Logged);
    this.report(update);
  }

  private admit(record: WalRecord): ShardUpdate {
    const update = new ShardUpdate(record);
    this.timed(update, () => {
      const norm = this.state.admit(record);
      if (norm === undefined) return update.to(UpdatePhase.Skipped);
      update.gradNorm = norm;
      update.to(UpdatePhase.Admitted);
    });
    return update;
  }

  private log(update: ShardUpdate): void {
    this.timed(update, () => {
      this.durability?.append(update.record);
      update.to(UpdatePhase.Logged);
    });
  }

  /** Returns whether the update was made (Applied). */
  private apply(update: ShardUpdate): boolean {
    if (update.phase !== UpdatePhase.Admitted && update.phase !== UpdatePhase.Logged) return false;
    const end = this.hooks.spans.begin('update', { step: update.record.step, version: update.record.version });
    try {
      return this.timed(update, () => {
        update.report = this.state.apply(update.record, update.gradNorm);
        update.to(UpdatePhase.Applied);
      });
    } finally {
      end();
    }
  }

  private reportOnceWritten(update: ShardUpdate, written: Promise<boolean>[]): void {
    this.waiting = update;
    if (written.length === 0) {
      this.settle();
      return;
    }
    const deadline = setTimeout(() => this.settle(update), SETTLE_WAIT_MS);
    deadline.unref();
    void Promise.all(written).finally(() => {
      clearTimeout(deadline);
      this.settle(update);
    });
  }

  /** Runs one phase of a live update, timed; a NonFiniteUpdate refuses the update (returns false). */
  private timed(update: ShardUpdate, phase: () => void): boolean {
    const started = performance.now();
    try {
      phase();
      return true;
    } catch (error) {
      if (!(error instanceof NonFiniteUpdate)) throw error;
      update.reason = error.message;
      update.to(UpdatePhase.Refused);
      this.hooks.refuse(update.record.step, error.message);
      return false;
    } finally {
      this.applyMs += performance.now() - started;
    }
  }
}
