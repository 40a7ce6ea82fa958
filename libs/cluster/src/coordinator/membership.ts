import { randomBytes } from 'node:crypto';
import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import { type Logger } from '@dptrain/log';
import type { JobDescription, PlanSizes } from '@dptrain/job';
import { JobState, WorkerState, transition } from '../lifecycle.js';
import type { JobRun } from './job-run.js';
import type { LeaseEntry } from './leases.js';
import type { Refusals } from './refusals.js';
import { jobOnWire } from './wire-job.js';
import { isLive, newWorkerEntry, type Roster, type WorkerEntry } from './worker-entry.js';

export interface MembershipParts {
  readonly job: JobDescription;
  readonly plan: PlanSizes;
  readonly run: JobRun;
  readonly refusals: Refusals;
  readonly shards: { allReady(): boolean; readyUrls(): string[] };
  readonly leases: { lose(worker: WorkerEntry): LeaseEntry | undefined };
  /** The lowest step not yet complete. */
  readonly step: () => number;
  /** A new worker was admitted (the first one starts the job). */
  readonly joined: () => void;
  /** A worker came back or went away: lease what can be leased. */
  readonly schedule: () => void;
  readonly log: Logger;
  /** When a worker was last heard of. @default Date.now */
  readonly clock?: () => number;
}

/**
 * The workers, as the coordinator sees them (lifecycle.ts `WorkerState`): registration (a worker
 * that lost its connection and names its id and session comes back under a new generation; one
 * that registers before every shard is ready waits), heartbeats, death, quarantine after
 * `quarantineAfter` refusals, and the clock of a job left with no live worker.
 */
export class Membership implements Roster {
  private readonly workers = new Map<number, WorkerEntry>();
  private readonly waiting: { connection: Connection; msg: MessageOf<'register'> }[] = [];
  private nextWorkerId = 0;
  private noWorkerTimer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly parts: MembershipParts) {
    this.clock = parts.clock ?? (() => Date.now());
  }

  register(connection: Connection, msg: MessageOf<'register'>): void {
    if (connection.peer.role === 'worker' && msg.workerId !== undefined) {
      const known = this.workers.get(msg.workerId);
      // A dead worker's name and id without any session secret are a new process of that worker
      // (started again with DPTRAIN_WORKER_ID): it joins as a new worker under a new id, taking
      // nothing (the dead one holds no connection and no lease).
      const restarted = known?.state === WorkerState.Dead && msg.session === undefined;
      if (known && !restarted && known.name === msg.name) {
        if (msg.session !== known.session) {
          // Only the worker itself may take its id back: another peer would evict it and take its lease.
          throw new ProtocolError(
            'E_AUTH',
            `register names worker id ${known.id} (${known.name}) without that worker's session secret; a new worker registers without workerId`,
            { ref: msg.seq },
          );
        }
        if (known.state === WorkerState.Quarantined) {
          throw new ProtocolError(
            'E_ROLE',
            `worker ${known.name} (id ${known.id}) is quarantined: its pushes were refused as poisoned; fix the worker (its gradients are non-finite or too large) and start it under a new name`,
            { ref: msg.seq },
          );
        }
        this.readmit(known, connection, msg);
        return;
      }
    }
    if (!this.parts.shards.allReady()) {
      this.waiting.push({ connection, msg });
      return;
    }
    this.admit(connection, msg);
  }

  /** Every shard is ready: the workers that registered before are answered now. */
  admitWaiting(): void {
    for (const { connection, msg } of this.waiting.splice(0)) if (connection.isOpen) this.register(connection, msg);
  }

  heartbeat(connection: Connection, workerId: number): void {
    const w = this.workers.get(workerId);
    if (w && w.connection === connection) w.lastSeen = this.clock();
  }

  byConnection(connection: Connection): WorkerEntry | undefined {
    return [...this.workers.values()].find((w) => w.connection === connection);
  }

  /** A connection closed: a live worker on it is dead. */
  disconnected(connection: Connection): void {
    const worker = this.byConnection(connection);
    if (worker && isLive(worker)) this.kill(worker, 'worker-disconnected');
  }

  /** Live workers not heard of for over `timeoutMs` at `now` are dead; their connections are closed. */
  expireSilent(now: number, timeoutMs: number): void {
    for (const w of this.workers.values()) {
      if (isLive(w) && now - w.lastSeen > timeoutMs) {
        this.kill(w, 'worker-timeout');
        w.connection.close(4011, 'heartbeat missed');
      }
    }
  }

  /**
   * Counts `ids` of `step` against `worker` (their micro-batches go to other workers from now on)
   * and quarantines it at quarantineAfter strikes: it gets no more leases and is told why.
   */
  strike(worker: WorkerEntry, step: number, ids: readonly number[], what: string): void {
    const strikes = this.parts.refusals.record(worker.id, step, ids);
    this.parts.log({ level: 'warn', event: 'push-refused', workerId: worker.id, name: worker.name, step, microBatchIds: ids, strikes, what });
    const limit = this.parts.job.config.quarantineAfter;
    if (strikes < limit || worker.state === WorkerState.Quarantined || worker.state === WorkerState.Dead) return;
    const lease = this.parts.leases.lose(worker);
    worker.state = transition('worker', worker.state, WorkerState.Quarantined);
    const why = `${strikes} of its micro-batches were ${what}; quarantineAfter is ${limit}`;
    this.parts.run.record('worker-quarantined', { worker, lease }, `quarantined: ${why}; it gets no more leases`);
    this.parts.log({
      level: 'error',
      event: 'worker-quarantined',
      workerId: worker.id,
      name: worker.name,
      message: `worker ${worker.name} quarantined: ${why}; its micro-batches go to the other workers`,
    });
    void worker.connection.send({ type: 'shutdown', reason: `quarantined: ${why}` });
    this.watchLiveWorkers();
  }

  /**
   * The idle workers by id, not by when they registered: the sync policy gives the first of them
   * the step's leading run (pushed as one sum), so the share each worker gets, and the pace of a
   * run, must not depend on which process happened to start first.
   */
  idle(): WorkerEntry[] {
    return [...this.workers.values()].filter((w) => w.state === WorkerState.Idle).sort((a, b) => a.id - b.id);
  }

  all(): WorkerEntry[] {
    return [...this.workers.values()];
  }

  notDead(): number {
    return [...this.workers.values()].filter((w) => w.state !== WorkerState.Dead).length;
  }

  /** Some worker owes a leaseDone. */
  anyBusy(): boolean {
    return [...this.workers.values()].some((w) => w.state === WorkerState.Busy);
  }

  /** Live workers and those waiting for the shards to be ready. */
  connected(): number {
    return [...this.workers.values()].filter(isLive).length + this.waiting.length;
  }

  connections(): Connection[] {
    return [...this.workers.values()].map((w) => w.connection);
  }

  stop(): void {
    clearTimeout(this.noWorkerTimer);
  }

  private admit(connection: Connection, msg: MessageOf<'register'>): void {
    const id = this.newWorkerId(msg.workerId);
    const entry = newWorkerEntry({
      id,
      name: msg.name,
      backend: msg.backend,
      samples: msg.samples === true,
      connection,
      lastSeen: this.clock(),
      session: randomBytes(16).toString('base64url'),
    });
    this.workers.set(id, entry);
    this.welcome(entry, msg);
    this.parts.log({ level: 'info', event: 'worker-joined', workerId: id, name: msg.name, backend: msg.backend, ...(msg.samples ? { samples: true } : {}) });
    this.watchLiveWorkers();
    this.parts.joined();
  }

  /**
   * A new worker's id: the one its register asked for when no worker, live or dead, holds it, so
   * that workers named after ids keep them (dptrain local's worker-k asks for k, and a worker
   * reconnecting to a restarted coordinator asks for the id it had); else the lowest never given.
   */
  private newWorkerId(asked: number | undefined): number {
    if (asked !== undefined && !this.workers.has(asked)) return asked;
    while (this.workers.has(this.nextWorkerId)) this.nextWorkerId++;
    return this.nextWorkerId++;
  }

  /**
   * A worker that lost its connection registered again with its id: the old connection is
   * forgotten (its lease was, or is now, re-leased) and the worker continues under a new
   * generation.
   */
  private readmit(worker: WorkerEntry, connection: Connection, msg: MessageOf<'register'>): void {
    if (!this.parts.shards.allReady()) {
      this.waiting.push({ connection, msg });
      return;
    }
    if (isLive(worker)) this.kill(worker, 'worker-disconnected');
    const old = worker.connection;
    worker.connection = connection;
    worker.samples = msg.samples === true;
    worker.generation++;
    worker.reconnects++;
    worker.lastSeen = this.clock();
    worker.state = transition('worker', worker.state, WorkerState.Idle);
    if (old.isOpen) old.close(4013, 'replaced by a new connection of the same worker');
    this.parts.run.record('worker-reconnected', { worker }, `registered again with id ${worker.id}; generation ${worker.generation}`);
    this.parts.log({ level: 'info', event: 'worker-rejoined', workerId: worker.id, name: worker.name, generation: worker.generation });
    this.welcome(worker, msg);
    this.watchLiveWorkers();
    this.parts.schedule();
  }

  private welcome(worker: WorkerEntry, msg: MessageOf<'register'>): void {
    const { id: workerId, generation, session } = worker;
    void worker.connection.reply(msg, {
      type: 'registered',
      workerId,
      generation,
      config: jobOnWire(this.parts.job),
      shardUrls: this.parts.shards.readyUrls(),
      session,
    });
  }

  private kill(worker: WorkerEntry, kind: 'worker-disconnected' | 'worker-timeout'): void {
    worker.state = transition('worker', worker.state, WorkerState.Dead);
    const lease = this.parts.leases.lose(worker);
    if (lease) {
      this.parts.run.record(kind, { worker, lease }, `worker marked dead; re-leased micro-batches ${lease.ids.join(', ')} of step ${lease.step}`);
    } else {
      this.parts.run.record(kind, { worker }, 'worker marked dead; it held no lease');
    }
    this.parts.log({ level: 'warn', event: kind, workerId: worker.id, name: worker.name });
    this.watchLiveWorkers();
    this.parts.schedule();
  }

  /**
   * With no live worker (all dead or quarantined) the job waits `workerlessTimeoutMs` for one to
   * register, then fails with the reason; a worker joining stops the clock.
   */
  private watchLiveWorkers(): void {
    const live = [...this.workers.values()].some(isLive);
    if (live || this.parts.run.state === JobState.Waiting) {
      clearTimeout(this.noWorkerTimer);
      this.noWorkerTimer = undefined;
      return;
    }
    if (this.noWorkerTimer) return;
    const waitMs = this.parts.job.config.workerlessTimeoutMs;
    this.parts.log({ level: 'warn', event: 'no-workers', message: `no live worker; waiting up to ${waitMs} ms for one to register` });
    this.noWorkerTimer = setTimeout(() => {
      const quarantined = [...this.workers.values()].filter((w) => w.state === WorkerState.Quarantined).length;
      this.parts.run.fail(
        new ProtocolError(
          'E_CLOSED',
          `no live worker for ${waitMs} ms (${this.workers.size} registered: ${quarantined} quarantined, the others dead) at step ${this.parts.step()} of ${this.parts.plan.totalSteps}; start workers with \`dptrain worker --coordinator <url>\`, or raise --workerless-timeout-ms`,
        ),
      );
    }, waitMs);
    this.noWorkerTimer.unref();
  }
}
