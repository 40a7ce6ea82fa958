import { ProtocolError, type MessageOf } from '@dptrain/protocol';
import { type EndSpan, type Logger, type Spans } from '@dptrain/log';
import type { LeaseTickets } from '../lease-ticket.js';
import { LeaseState, WorkerState, transition } from '../lifecycle.js';
import type { JobRun } from './job-run.js';
import type { LeaseSamples } from './lease-samples.js';
import type { WorkerEntry } from './worker-entry.js';
import type { StepLedger } from './step-ledger.js';
import { addSplit } from './time-split.js';

export interface LeaseEntry {
  readonly id: number;
  readonly step: number;
  readonly ids: number[];
  readonly worker: WorkerEntry;
  state: LeaseState;
  readonly timer: NodeJS.Timeout;
  /** performance.now() when leased. */
  readonly startedAt: number;
  /** The lease this one backs up (same ids), or undefined. */
  readonly backupOf: number | undefined;
  /** A backup copy of this lease was leased to another worker. */
  backedUp: boolean;
}

export interface LeasesParts {
  readonly ledger: StepLedger;
  readonly run: JobRun;
  /** Every worker that ever registered (a worker holds its current lease). */
  readonly workers: () => Iterable<WorkerEntry>;
  /** A lease not done within this long is re-leased. */
  readonly deadlineMs: number;
  readonly tickets?: LeaseTickets;
  /** The rows of each lease's samples, for the workers that registered without a data set. */
  readonly samples: LeaseSamples | undefined;
  /** A lease of `step` finished some micro-batches after `ms`. */
  readonly finished: (step: number, ms: number) => void;
  /** A lease expired: lease its micro-batches again. */
  readonly schedule: () => void;
  readonly log: Logger;
  /** Each step's span runs from its first lease to its close; each lease is an instant. */
  readonly spans: Spans;
}

/**
 * Every lease's lifecycle (lifecycle.ts `LeaseState`): leased with a deadline and a ticket,
 * answered by a leaseDone, expired, revoked, or lost with its worker; whatever a lease did not
 * finish goes back into the ledger to be leased again. Which micro-batches go to whom is the
 * lease policy's business, not this one's.
 */
export class Leases {
  private nextLeaseId = 0;
  private stale = 0;
  /** Which worker's leaseDone first reported each micro-batch of an open step done ("step:id"). */
  private readonly reportedBy = new Map<string, WorkerEntry>();
  /**
   * The micro-batches of each step some worker's leaseDone has reported done, to tell a report
   * of one another worker reported first (a straggler's leaseDone that crossed its revocation, an
   * expired lease's late one). Kept while a lease of the step can still answer.
   */
  private readonly credited = new Map<number, Set<number>>();
  /** The spans of the steps leased and not yet closed. */
  private readonly openSteps = new Map<number, EndSpan>();

  constructor(private readonly parts: LeasesParts) {}

  /** Micro-batches a shard answered `stale` that were leased again. */
  get staleReleased(): number {
    return this.stale;
  }

  issue(worker: WorkerEntry, step: number, ids: number[], modelVersion: number, backupOf?: LeaseEntry): void {
    const leaseId = this.nextLeaseId++;
    const { deadlineMs } = this.parts;
    const timer = setTimeout(() => this.expire(lease), deadlineMs);
    timer.unref();
    const lease: LeaseEntry = {
      id: leaseId,
      step,
      ids,
      worker,
      state: LeaseState.Active,
      timer,
      startedAt: performance.now(),
      backupOf: backupOf?.id,
      backedUp: false,
    };
    worker.state = transition('worker', worker.state, WorkerState.Busy);
    worker.lease = lease;
    worker.leases++;
    worker.issued.set(leaseId, { step, ids });
    const tickets = this.parts.tickets?.mintLease(step, ids, leaseId);
    if (!this.openSteps.has(step)) this.openSteps.set(step, this.parts.spans.begin('step', { step }));
    this.parts.spans.instant('leaseIssued', { step, leaseId, workerId: worker.id, microBatches: ids.length });
    const rows = worker.samples ? this.parts.samples?.rows(step, ids) : undefined;
    void worker.connection.send({ type: 'lease', leaseId, step, microBatchIds: ids, modelVersion, deadlineMs, ...(tickets ? { tickets } : {}), ...rows });
  }

  /**
   * Books `worker`'s leaseDone: the lease ends, its done micro-batches are recorded, and the ones
   * it gave up or a shard answered stale go back to be leased. `closed` is the lowest step not yet
   * complete. Returns false for a leaseDone of a closed step's forgotten lease (nothing to book).
   * @throws ProtocolError E_RANGE for a lease the worker does not hold, or ids outside it
   */
  complete(worker: WorkerEntry, msg: MessageOf<'leaseDone'>, closed: number): boolean {
    const issued = worker.issued.get(msg.leaseId);
    if (!issued) {
      if (msg.step < closed) return false;
      throw new ProtocolError(
        'E_RANGE',
        `leaseDone for lease ${msg.leaseId}, which ${worker.name} does not hold (never leased to it, or reported done already)`,
        { ref: msg.seq },
      );
    }
    const reported = [...msg.microBatchIds, ...(msg.stale ?? []), ...(msg.refused ?? [])];
    const foreign = reported.filter((id) => !issued.ids.includes(id));
    if (issued.step !== msg.step || foreign.length > 0 || msg.losses.length !== msg.microBatchIds.length) {
      throw new ProtocolError(
        'E_RANGE',
        `leaseDone for lease ${msg.leaseId} reports step ${msg.step} micro-batches ${reported.join(', ')} with ${msg.losses.length} losses; the lease is step ${issued.step} micro-batches ${issued.ids.join(', ')}, one loss per micro-batch done`,
        { ref: msg.seq },
      );
    }
    worker.issued.delete(msg.leaseId);
    const lease = worker.lease;
    // A late leaseDone of an expired or lost lease still completes its ids: the shards acknowledged the pushes.
    let unreported: number[] = [];
    if (lease && lease.id === msg.leaseId) {
      clearTimeout(lease.timer);
      // A running lease answered without some of its micro-batches (the worker gave it up): those go back to be leased.
      if (lease.state === LeaseState.Active) unreported = lease.ids.filter((id) => !reported.includes(id));
      lease.state = transition('lease', lease.state, LeaseState.Done);
      worker.lease = undefined;
      if (worker.state === WorkerState.Busy) worker.state = transition('worker', worker.state, WorkerState.Idle);
      if (msg.microBatchIds.length > 0) this.parts.finished(msg.step, performance.now() - lease.startedAt);
    }
    worker.microBatches += msg.microBatchIds.length;
    worker.reportedAgain += msg.microBatchIds.length - this.firstReports(msg.step, msg.microBatchIds);
    addSplit(worker.timing, msg);
    const { ledger, log } = this.parts;
    for (const id of msg.microBatchIds) if (!ledger.isIdDone(msg.step, id)) this.reportedBy.set(`${msg.step}:${id}`, worker);
    ledger.done(msg.step, msg.microBatchIds, msg.losses);
    if (unreported.length > 0) {
      const back = ledger.requeue(msg.step, unreported);
      if (back.length > 0) log({ level: 'info', event: 'lease-given-up', workerId: worker.id, leaseId: msg.leaseId, step: msg.step, microBatchIds: back });
    }
    if (msg.stale && msg.stale.length > 0) {
      const back = ledger.requeue(msg.step, msg.stale);
      this.stale += back.length;
      log({ level: 'info', event: 'stale-released', workerId: worker.id, step: msg.step, microBatchIds: back });
    }
    return true;
  }

  /**
   * Revokes the running leases of `step` that have a backup twin and whose micro-batches are all
   * done (the backup, or the original, finished first). Other leases are left to finish: their ids
   * may be done only because a shard applied the pushes before the worker's leaseDone arrived.
   */
  revokeFinished(step: number): void {
    for (const w of this.parts.workers()) {
      const lease = w.lease;
      if (!lease || lease.step !== step || lease.state !== LeaseState.Active) continue;
      if (!lease.backedUp && lease.backupOf === undefined) continue;
      if (!lease.ids.every((id) => this.parts.ledger.isIdDone(step, id))) continue;
      this.revoke(lease, 'its micro-batches were finished by another lease');
    }
  }

  /** Revokes every running lease; their micro-batches go back to be leased. */
  releaseRunning(reason: string): void {
    for (const w of this.parts.workers()) {
      const lease = w.lease;
      if (lease?.state === LeaseState.Active) {
        this.revoke(lease, reason);
        this.requeue(lease);
      }
    }
  }

  /** Takes the worker's lease away; a running one is lost and its micro-batches go back to be leased (returned). */
  lose(worker: WorkerEntry): LeaseEntry | undefined {
    const lease = worker.lease;
    worker.lease = undefined;
    if (!lease || lease.state !== LeaseState.Active) return undefined;
    clearTimeout(lease.timer);
    lease.state = transition('lease', lease.state, LeaseState.Lost);
    this.requeue(lease);
    return lease;
  }

  /** Marks `ids` of `step` reported by a leaseDone; returns how many no earlier leaseDone had reported. */
  private firstReports(step: number, ids: readonly number[]): number {
    let reported = this.credited.get(step);
    if (!reported) this.credited.set(step, (reported = new Set()));
    const before = reported.size;
    for (const id of ids) reported.add(id);
    return reported.size - before;
  }

  /** The workers whose leaseDone first reported `ids` of `step` done, with those ids. */
  reporters(step: number, ids: readonly number[]): Map<WorkerEntry, number[]> {
    const by = new Map<WorkerEntry, number[]>();
    for (const id of ids) {
      const worker = this.reportedBy.get(`${step}:${id}`);
      if (worker) by.set(worker, [...(by.get(worker) ?? []), id]);
    }
    return by;
  }

  /** `step` closed: its leases are forgotten, but not a worker's current one (its leaseDone frees the worker). */
  forgetClosed(step: number): void {
    for (const [s, end] of this.openSteps) {
      if (s > step) continue;
      end();
      this.openSteps.delete(s);
    }
    for (const w of this.parts.workers()) for (const [id, lease] of w.issued) if (lease.step <= step && w.lease?.id !== id) w.issued.delete(id);
    for (const key of this.reportedBy.keys()) if (Number(key.slice(0, key.indexOf(':'))) <= step) this.reportedBy.delete(key);
    // A worker's current lease of a closed step can still answer: its step's credits stay until it has.
    let held = Infinity;
    for (const w of this.parts.workers()) for (const lease of w.issued.values()) held = Math.min(held, lease.step);
    for (const s of this.credited.keys()) if (s <= step && s < held) this.credited.delete(s);
  }

  stop(): void {
    for (const w of this.parts.workers()) if (w.lease) clearTimeout(w.lease.timer);
  }

  private expire(lease: LeaseEntry): void {
    if (lease.state !== LeaseState.Active) return;
    lease.state = transition('lease', lease.state, LeaseState.Expired);
    this.requeue(lease);
    this.parts.run.record('lease-expired', { worker: lease.worker, lease }, `re-leased micro-batches ${lease.ids.join(', ')} of step ${lease.step}`);
    this.parts.schedule();
  }

  private revoke(lease: LeaseEntry, reason: string): void {
    clearTimeout(lease.timer);
    lease.state = transition('lease', lease.state, LeaseState.Revoked);
    this.parts.log({ level: 'info', event: 'lease-revoked', leaseId: lease.id, workerId: lease.worker.id, step: lease.step, reason });
    // The worker answers with an empty leaseDone, which frees it.
    void lease.worker.connection.send({ type: 'leaseRevoked', leaseId: lease.id, reason });
  }

  private requeue(lease: LeaseEntry): void {
    this.parts.ledger.requeue(lease.step, lease.ids);
  }
}
