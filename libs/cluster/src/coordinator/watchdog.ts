import type { Logger } from '@dptrain/log';
import { JobState } from '../lifecycle.js';
import type { JobRun } from './job-run.js';
import type { WorkerEntry } from './worker-entry.js';
import type { StepLedger } from './step-ledger.js';

/** How often a coordinator that cannot start (or go on) says what it waits for. */
const WAIT_REPORT_MS = 10_000;

export interface WatchdogParts {
  readonly run: JobRun;
  readonly ledger: StepLedger;
  readonly shardCount: number;
  readonly closer: { readonly step: number; readonly pausedForEval: boolean };
  readonly shards: { missing(): number[] };
  readonly members: { connected(): number; strike(worker: WorkerEntry, step: number, ids: readonly number[], what: string): void };
  readonly leases: { reporters(step: number, ids: readonly number[]): Map<WorkerEntry, number[]>; releaseRunning(reason: string): void };
  /** Leases again every micro-batch of an open step that some shard has not applied. */
  readonly leaseAgain: () => void;
  readonly log: Logger;
}

/**
 * What the heartbeat sweep checks besides the workers: a step the workers finished that the
 * shards never applied, and a job that cannot start or go on, so neither is a silent hang.
 */
export class Watchdog {
  /** The step watched (done by the workers, not applied by every shard) and since when. */
  private stalled: { readonly step: number; readonly since: number } | undefined;
  /** Since when the job waits (for shards or workers), and when that was last said. */
  private waitingSince: number | undefined;
  private lastWaitReport = 0;

  constructor(private readonly parts: WatchdogParts) {}

  check(now: number, timeoutMs: number): void {
    this.checkStall(now, timeoutMs);
    this.reportWaiting(now);
  }

  /**
   * A step whose micro-batches the workers all reported done but that some shard has not applied
   * (a worker reported a lease done without pushing it, or a push was lost): after `timeoutMs` of
   * that, every lease is revoked and what a shard had not applied is leased again.
   */
  private checkStall(now: number, timeoutMs: number): void {
    const { run, ledger, closer, log } = this.parts;
    const t = closer.step;
    if (run.state !== JobState.Training || closer.pausedForEval || !ledger.isDone(t) || ledger.isComplete(t)) {
      this.stalled = undefined;
      return;
    }
    if (this.stalled?.step !== t) {
      this.stalled = { step: t, since: now };
      return;
    }
    if (now - this.stalled.since <= timeoutMs) return;
    this.stalled = undefined;
    const waiting = Array.from({ length: this.parts.shardCount }, (_, s) => s).filter((s) => !ledger.appliedBy(t, s));
    run.record(
      'step-stalled',
      {},
      `step ${t} reported done by the workers but not applied by shard(s) ${waiting.join(', ')} for ${timeoutMs} ms; its micro-batches are leased again`,
    );
    log({ level: 'warn', event: 'step-stalled', step: t, shards: waiting });
    // Whoever reported a micro-batch done that a shard never got is suspect: it may report without pushing.
    for (const [worker, ids] of this.parts.leases.reporters(t, ledger.notAppliedEverywhere(t)))
      this.parts.members.strike(worker, t, ids, 'reported done but never reached a shard');
    this.parts.leases.releaseRunning(`step ${t} stalled; it is leased again`);
    this.parts.leaseAgain();
  }

  /**
   * While the job cannot start (or go on after a shard was lost), says every WAIT_REPORT_MS what
   * it waits for, so that a shard that failed to start is not a silent hang.
   */
  private reportWaiting(now: number): void {
    const { state } = this.parts.run;
    if (state !== JobState.Waiting && state !== JobState.Recovering) {
      this.waitingSince = undefined;
      return;
    }
    this.waitingSince ??= now;
    if (now - this.waitingSince < WAIT_REPORT_MS || now - this.lastWaitReport < WAIT_REPORT_MS) return;
    this.lastWaitReport = now;
    const missing = this.parts.shards.missing();
    const workers = this.parts.members.connected();
    const shards =
      missing.length > 0 ? `parameter-server shard(s) ${missing.join(', ')} to register and say ready (dptrain ps --shard N)` : 'nothing from the shards';
    this.parts.log({
      level: 'warn',
      event: 'waiting',
      state,
      shards: missing,
      workers,
      message: `${state} for ${Math.round((now - this.waitingSince) / 1000)} s: waiting for ${shards}${state === JobState.Waiting ? ` and a worker (${workers} connected)` : ''}; a process that failed to start says why in its own log`,
    });
  }
}
