import { randomBytes } from 'node:crypto';
import { ProtocolError, silentLogger, type Connection, type JsonValue, type Logger, type Message, type MessageOf } from '@dptrain/protocol';
import { planSizes, type JobDescription, type PlanSizes } from '../job.js';
import type { LeaseTickets } from '../lease-ticket.js';
import { JobState, LeaseState, WorkerState, transition } from '../lifecycle.js';
import { decideBackup } from './backup-policy.js';
import { Refusals } from './refusals.js';
import type { ResumePoint } from './resume-point.js';
import { steadyRate } from './steady-rate.js';
import { StepLedger } from './step-ledger.js';
import { addSplit, emptySplit, perStep, type TimeSplit } from './time-split.js';

type Evaluation = { loss: number; accuracy: number };

/** How often a coordinator that cannot start (or go on) says what it waits for. */
const WAIT_REPORT_MS = 10_000;

export interface CoordinatorOptions {
  readonly job: JobDescription;
  readonly paramCount: number;
  /** Evaluates the test split on full parameters and running statistics. */
  readonly evaluate: (params: Float32Array, bnState: Float32Array | undefined) => Promise<Evaluation> | Evaluation;
  /** Evaluates the held-out validation split (jobs with `holdout` > 0), before the test split at each epoch's end. */
  readonly validate?: (params: Float32Array, bnState: Float32Array | undefined) => Promise<Evaluation> | Evaluation;
  /** Each closed step; `epoch` counts from 1, as the progress display does (metrics.jsonl). */
  readonly onStep?: (record: { kind: 'step'; step: number; epoch: number; loss: number; lr: number; gradNorm: number }) => void | Promise<void>;
  readonly onEval?: (record: { kind: 'eval'; step: number; epoch: number; split: 'test' | 'validation'; loss: number; accuracy: number }) => void | Promise<void>;
  /** Sees each fault as it is recorded (a restarted coordinator reads them back). */
  readonly onFault?: (record: FaultRecord) => void | Promise<void>;
  /** A worker silent for this long is dead. @default job.config.workerTimeoutMs */
  readonly workerTimeoutMs?: number;
  /** A lease not done within this long is re-leased. @default job.config.leaseTimeoutMs */
  readonly leaseTimeoutMs?: number;
  /** A restarted coordinator's starting point (sync jobs), from the run folder. */
  readonly resume?: ResumePoint;
  /** Faults recorded before a restart, carried into this run's summary. */
  readonly pastFaults?: readonly FaultRecord[];
  /**
   * Signs every lease so that shards take only pushes of leased micro-batches (lease-ticket.ts).
   * Without it leases carry no tickets, and shards that check them refuse every push.
   */
  readonly tickets?: LeaseTickets;
  /** @default silentLogger */
  readonly log?: Logger;
}

/**
 * One fault the coordinator saw, and what it did about it (summary.json `faults`). Backup leases
 * are not faults (a straggler is slow, not broken, and nothing is lost): they are counted in
 * `backupLeases` and per worker instead.
 */
export interface FaultRecord {
  readonly kind:
    | 'worker-disconnected'
    | 'worker-timeout'
    | 'lease-expired'
    | 'worker-reconnected'
    | 'worker-quarantined'
    | 'shard-lost'
    | 'shard-restarted'
    | 'step-stalled'
    | 'coordinator-restarted';
  /** The worker concerned; -1 for a shard or the coordinator itself. */
  readonly workerId: number;
  /** The worker's or shard's name. */
  readonly name: string;
  readonly step: number;
  readonly microBatchIds: readonly number[];
  readonly action: string;
  readonly atMs: number;
}

export interface WorkerSummary {
  readonly workerId: number;
  readonly name: string;
  readonly backend: string;
  readonly state: WorkerState;
  readonly leases: number;
  readonly microBatches: number;
  /** Times the worker registered again with its id after losing its connection. */
  readonly reconnects: number;
  /** Backup copies of other workers' straggling leases leased to it. */
  readonly backupLeases: number;
  /** Its leases that ran long enough for a backup copy to go to another worker (it straggled). */
  readonly leasesBackedUp: number;
  /** Milliseconds spent in each phase of its leases. */
  readonly timing: TimeSplit;
}

export interface ClusterResult {
  readonly params: Float32Array;
  readonly bnState: Float32Array | undefined;
  readonly steps: number;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly test: { loss: number; accuracy: number };
  readonly workers: WorkerSummary[];
  readonly faults: FaultRecord[];
  /** Backup copies of straggling leases leased (sync, `backupAfter`); each worker's share is in `workers`. */
  readonly backupLeases: number;
  /** The average worker's milliseconds per step in each phase (time-split.ts `perStep`). */
  readonly timing: TimeSplit;
  /** Async: micro-batches a shard answered `stale` that the coordinator leased again. */
  readonly staleReleased: number;
  /** Each shard's status report at the end (counters; async: the staleness histogram). */
  readonly shards: JsonValue[];
  /**
   * Steady-state training throughput: the steps closed after the first 10% (at least one), each
   * timed from the close of the step before with evaluation pauses taken out, as the median of 5
   * rounds (steady-rate.ts); NaN when the job is too short.
   */
  readonly steadySamplesPerSecond: number;
}

interface WorkerEntry {
  readonly id: number;
  readonly name: string;
  readonly backend: string;
  connection: Connection;
  generation: number;
  state: WorkerState;
  lastSeen: number;
  lease: LeaseEntry | undefined;
  leases: number;
  microBatches: number;
  reconnects: number;
  backupLeases: number;
  leasesBackedUp: number;
  readonly timing: TimeSplit;
  /** Leases given to this worker and not yet reported done, by id: a leaseDone must answer one. */
  readonly issued: Map<number, { readonly step: number; readonly ids: readonly number[] }>;
  /** The secret a `register` naming this worker's id must carry (reconnects of this worker only). */
  readonly session: string;
}

interface LeaseEntry {
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

/**
 * The coordinator: owns the job. It answers registrations (shards first; a worker's `registered`
 * waits until every shard is ready, so it carries every shard URL; a worker that reconnects and
 * names its old id gets that id back), leases micro-batches to idle workers, re-leases the work of
 * dead or overdue workers and the micro-batches a shard answered `stale`, closes steps in order
 * once every micro-batch is done and applied (StepLedger), evaluates at each epoch's end and at
 * the end on parameters pulled from the shards, and owns every worker, lease and job transition.
 *
 * Synchronous mode: the micro-batches of step t are split round-robin over the idle workers, and
 * step t+1 opens once t is complete (CLUSTER.md, synchronous step 7). Asynchronous mode: the steps
 * of the current epoch open as workers ask for work, each idle worker leasing up to ⌈M/W⌉ pending
 * micro-batches of the lowest step that has some; the next epoch opens after the evaluation.
 *
 * Faults (CLUSTER.md, faults): a dead or overdue worker's lease is leased again; a straggling
 * lease gets a backup copy on an idle worker (sync, `backupAfter`), the first to finish wins and
 * the other is revoked; micro-batches a shard refused as poisoned go to another worker, and a
 * worker with `quarantineAfter` refusals is quarantined; a lost shard pauses the job until it
 * registers again (restarted from its checkpoint and write-ahead log, at the version it had), then
 * the micro-batches it had not applied are leased again; with no live worker for
 * `workerlessTimeoutMs` the job fails. A restarted coordinator (`resume`) continues from the steps
 * its run folder records and the versions the shards report.
 */
export class Coordinator {
  private state = JobState.Waiting;
  private readonly plan: PlanSizes;
  private readonly log: Logger;
  private readonly shards: (Connection | undefined)[];
  private readonly shardUrls: (string | undefined)[];
  private readonly shardVersions: number[];
  private readonly workers = new Map<number, WorkerEntry>();
  private readonly waitingWorkers: { connection: Connection; msg: MessageOf<'register'> }[] = [];
  private nextWorkerId = 0;
  private nextLeaseId = 0;
  /** The lowest step not yet complete. */
  private step = 0;
  /** Sync: the step being leased (this.step, or this.step + 1 while the shards apply this.step). */
  private leasing = 0;
  /** Async: the next step of the current epoch not yet opened. */
  private nextToOpen = 0;
  private readonly ledger: StepLedger;
  private readonly async: boolean;
  private draining = false;
  private pausedForEval = false;
  private staleReleased = 0;
  private shardStatus: JsonValue[] = [];
  /** Steady-state clock: the steps not timed, each later step's milliseconds, evaluation time since the last close. */
  private readonly warmSteps: number;
  private readonly stepMs: number[] = [];
  private lastCloseAt = Number.NaN;
  private evalMs = 0;
  private epochLossSum = 0;
  private epochSteps = 0;
  private trainLoss = Number.NaN;
  private readonly faults: FaultRecord[];
  private readonly started = Date.now();
  private readonly sweep: NodeJS.Timeout;
  private readonly refusals = new Refusals();
  /** Sync: durations of the finished leases of each open step, for the backup policy. */
  private readonly leaseMs = new Map<number, number[]>();
  private backupTimer: NodeJS.Timeout | undefined;
  private shardTimer: NodeJS.Timeout | undefined;
  private noWorkerTimer: NodeJS.Timeout | undefined;
  /** Shards that registered at least once (a later registration is a restart). */
  private readonly shardsSeen = new Set<number>();
  /** Which worker's leaseDone first reported each micro-batch of an open step done ("step:id"). */
  private readonly reportedBy = new Map<string, WorkerEntry>();
  /** Since when the job waits (for shards or workers), and when that was last said. */
  private waitingSince: number | undefined;
  private lastWaitReport = 0;
  /** The step the stall watchdog watches (done by the workers, not applied by every shard) and since when. */
  private stalled: { readonly step: number; readonly since: number } | undefined;
  private evalDue = false;
  private settle!: { resolve: (r: ClusterResult) => void; reject: (e: Error) => void };
  /** Resolves when the last step is applied and evaluated; rejects when the job fails. */
  readonly done: Promise<ClusterResult>;

  constructor(private readonly options: CoordinatorOptions) {
    this.plan = planSizes(options.job);
    this.log = options.log ?? silentLogger;
    const S = options.job.config.psShards;
    this.shards = new Array<Connection | undefined>(S).fill(undefined);
    this.shardUrls = new Array<string | undefined>(S).fill(undefined);
    this.shardVersions = new Array<number>(S).fill(0);
    this.async = options.job.config.mode === 'async';
    this.ledger = new StepLedger(this.plan.microBatchesPerStep, S, this.async);
    this.warmSteps = Math.max(1, Math.floor(this.plan.totalSteps / 10));
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
    this.faults = [...(options.pastFaults ?? [])];
    if (options.resume) {
      if (this.async) throw new ProtocolError('E_RANGE', 'coordinator --resume continues synchronous jobs only; an async job restarts from the beginning (drop --resume)');
      const r = options.resume;
      this.step = this.leasing = r.step;
      this.epochLossSum = r.epochLossSum;
      this.epochSteps = r.epochSteps;
      this.trainLoss = r.trainLoss;
      this.evalDue = r.evalDue;
      if (r.step >= this.plan.totalSteps) {
        throw new ProtocolError('E_RANGE', `the run to resume already closed all ${this.plan.totalSteps} steps; give another --out, or start without --resume`);
      }
      // A supervisor may pass --resume on every start: only a run that had begun was restarted.
      if (r.step > 0 || (options.pastFaults?.length ?? 0) > 0) this.record('coordinator-restarted', undefined, undefined, `resumed after ${r.step} closed steps; the shards report where they are`);
    }
    const timeout = options.workerTimeoutMs ?? options.job.config.workerTimeoutMs;
    this.sweep = setInterval(() => this.checkHeartbeats(timeout), Math.max(50, Math.floor(timeout / 4)));
    this.sweep.unref();
  }

  get jobState(): JobState {
    return this.state;
  }

  /** Serves one authenticated connection (a shard or a worker). */
  attach(connection: Connection): void {
    connection.on('message', (msg) => this.handle(connection, msg));
    connection.on('close', (code, reason) => this.closed(connection, code, reason));
  }

  /** Every connection the coordinator serves, for shutdown. */
  connections(): Connection[] {
    return [...this.shards.filter((s): s is Connection => s !== undefined), ...[...this.workers.values()].map((w) => w.connection)];
  }

  /** JSON for GET /status. */
  status(): { [key: string]: JsonValue } {
    return {
      state: this.state,
      step: this.step,
      totalSteps: this.plan.totalSteps,
      stepsPerEpoch: this.plan.stepsPerEpoch,
      microBatchesPerStep: this.plan.microBatchesPerStep,
      shardVersions: this.shardVersions,
      shardUrls: this.shardUrls.map((u) => u ?? null),
      mode: this.options.job.config.mode,
      staleness: this.options.job.config.staleness,
      staleReleased: this.staleReleased,
      shards: this.shardStatus,
      timingPerStepMs: perStep(this.workerSummaries().map((w) => w.timing), this.step) as unknown as JsonValue,
      workers: this.workerSummaries() as unknown as JsonValue,
      faults: this.faults as unknown as JsonValue,
      backupLeases: this.backupLeases(),
    };
  }

  /**
   * Asks every shard for its status report (counters, async staleness histogram) and keeps the
   * answers for `status()` and the result.
   */
  async refreshShardStatus(): Promise<JsonValue[]> {
    const reports = await Promise.all(this.shards.map((s) => (s?.isOpen ? s.request({ type: 'status' }, { timeoutMs: 10_000 }).then((r) => r.detail, () => null) : null)));
    this.shardStatus = reports;
    return reports;
  }

  /** Stops timers; the caller closes the connections. */
  stop(): void {
    clearInterval(this.sweep);
    clearTimeout(this.backupTimer);
    clearTimeout(this.shardTimer);
    clearTimeout(this.noWorkerTimer);
    for (const w of this.workers.values()) if (w.lease) clearTimeout(w.lease.timer);
  }

  private handle(connection: Connection, msg: Message): void {
    try {
      switch (msg.type) {
        case 'register':
          this.register(connection, msg);
          break;
        case 'shardReady':
          this.shardReady(connection, msg);
          break;
        case 'heartbeat': {
          const w = this.workers.get(msg.workerId);
          if (w && w.connection === connection) w.lastSeen = Date.now();
          break;
        }
        case 'leaseDone':
          this.leaseDone(connection, msg);
          break;
        case 'stepApplied': {
          const s = this.shards.indexOf(connection);
          if (s < 0) throw new ProtocolError('E_ROLE', 'stepApplied from a connection that is not a registered shard; register with shard first', { ref: msg.seq });
          this.shardVersions[s] = Math.max(this.shardVersions[s], msg.version);
          // A restarted coordinator, or a shard re-sending after a reconnect, reports steps not yet open here.
          if (!this.async && msg.step >= this.step && !this.ledger.isOpen(msg.step)) this.ledger.openStep(msg.step);
          this.ledger.applied(msg.step, s, msg.microBatchIds, msg.lr, msg.gradNorm, msg.losses);
          void this.drain();
          // The shards' losses can finish a step no lease will report (its worker died after
          // pushing). Lease on from here only when no worker still owes a leaseDone: leasing the
          // next step while one is busy would hand it all to the others and starve that one.
          if (![...this.workers.values()].some((w) => w.state === WorkerState.Busy)) {
            this.advanceSync();
            this.schedule();
          }
          break;
        }
        case 'stepRefused': {
          const s = this.shards.indexOf(connection);
          if (s < 0) throw new ProtocolError('E_ROLE', 'stepRefused from a connection that is not a registered shard; register with shard first', { ref: msg.seq });
          this.fail(new ProtocolError('E_NON_FINITE', `parameter-server shard ${s} refused step ${msg.step} (version ${msg.version}): ${msg.reason}; the job cannot go on: lower --lr, clip with --clip-norm, or bound pushes with --max-grad-norm`));
          break;
        }
        case 'status':
          void connection.reply(msg, { type: 'statusReport', role: 'coordinator', step: this.step, version: this.step, detail: this.status() });
          break;
        default:
          break;
      }
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_INTERNAL', String(error), { cause: error });
      this.log({ level: 'warn', event: 'coordinator-refused', type: msg.type, code: refusal.code, message: refusal.message });
      void connection.replyError(msg, refusal);
    }
  }

  private register(connection: Connection, msg: MessageOf<'register'>): void {
    if (connection.peer.role === 'worker' && msg.workerId !== undefined) {
      const known = this.workers.get(msg.workerId);
      // A dead worker's name and id without any session secret are a new process of that worker
      // (started again with DPTRAIN_WORKER_ID): it joins as a new worker under a new id, taking
      // nothing (the dead one holds no connection and no lease).
      const restarted = known?.state === WorkerState.Dead && msg.session === undefined;
      if (known && !restarted && known.name === msg.name && msg.session !== known.session) {
        // Only the worker itself may take its id back: another peer would evict it and take its lease.
        throw new ProtocolError('E_AUTH', `register names worker id ${known.id} (${known.name}) without that worker's session secret; a new worker registers without workerId`, { ref: msg.seq });
      }
      if (known && !restarted && known.name === msg.name && known.state === WorkerState.Quarantined) {
        throw new ProtocolError('E_ROLE', `worker ${known.name} (id ${known.id}) is quarantined: its pushes were refused as poisoned; fix the worker (its gradients are non-finite or too large) and start it under a new name`, { ref: msg.seq });
      }
      if (known && !restarted && known.name === msg.name) {
        this.readmit(known, connection, msg);
        return;
      }
    }
    const config = this.options.job as unknown as JsonValue;
    if (connection.peer.role === 'ps') {
      const S = this.shards.length;
      if (msg.shard === undefined || msg.shard >= S) {
        throw new ProtocolError('E_RANGE', `register.shard ${msg.shard} is not a shard index of this job (0..${S - 1}); start the shard with --shard between 0 and ${S - 1}`, { ref: msg.seq });
      }
      if (this.shards[msg.shard]?.isOpen) {
        throw new ProtocolError('E_RANGE', `shard ${msg.shard} is already registered; give each parameter server its own --shard`, { ref: msg.seq });
      }
      const version = msg.version ?? 0;
      if (!this.async && version < this.step) {
        const error = new ProtocolError('E_STALE', `shard ${msg.shard} registered at version ${version}, but step ${this.step - 1} was already applied everywhere; its checkpoint directory lost steps (restart it with --resume and its checkpoint directory intact)`, { ref: msg.seq });
        this.fail(error);
        throw error;
      }
      this.shards[msg.shard] = connection;
      this.shardVersions[msg.shard] = version;
      if (this.shardsSeen.has(msg.shard)) {
        this.record('shard-restarted', undefined, undefined, `shard ${msg.shard} registered again at version ${version}`, `ps-${msg.shard}`);
        this.log({ level: 'info', event: 'shard-registered-again', shard: msg.shard, version });
      }
      this.shardsSeen.add(msg.shard);
      void connection.reply(msg, { type: 'registered', workerId: msg.shard, generation: 0, config });
      return;
    }
    if (!this.allShardsReady()) {
      this.waitingWorkers.push({ connection, msg });
      return;
    }
    this.admit(connection, msg);
  }

  private shardReady(connection: Connection, msg: MessageOf<'shardReady'>): void {
    if (this.shards[msg.shard] !== connection) {
      throw new ProtocolError('E_RANGE', `shardReady.shard ${msg.shard} does not match the shard this connection registered as`, { ref: msg.seq });
    }
    this.shardUrls[msg.shard] = msg.url;
    this.log({ level: 'info', event: 'shard-ready', shard: msg.shard, url: msg.url });
    if (!this.allShardsReady()) return;
    if (this.state === JobState.Recovering) this.recover();
    for (const { connection: c, msg: m } of this.waitingWorkers.splice(0)) if (c.isOpen) this.register(c, m);
  }

  private allShardsReady(): boolean {
    return this.shardUrls.every((u) => u !== undefined);
  }

  private admit(connection: Connection, msg: MessageOf<'register'>): void {
    const id = this.newWorkerId(msg.workerId);
    const session = randomBytes(16).toString('base64url');
    const entry: WorkerEntry = { id, name: msg.name, backend: msg.backend, connection, generation: 0, state: WorkerState.Idle, lastSeen: Date.now(), lease: undefined, leases: 0, microBatches: 0, reconnects: 0, backupLeases: 0, leasesBackedUp: 0, timing: emptySplit(), issued: new Map(), session };
    this.workers.set(id, entry);
    void connection.reply(msg, { type: 'registered', workerId: id, generation: 0, config: this.options.job as unknown as JsonValue, shardUrls: this.shardUrls as string[], session });
    this.log({ level: 'info', event: 'worker-joined', workerId: id, name: msg.name, backend: msg.backend });
    this.watchLiveWorkers();
    if (this.state === JobState.Waiting) {
      this.state = transition('job', this.state, JobState.Training);
      if (!this.async) {
        this.ledger.openStep(this.leasing);
        this.leaseMs.set(this.leasing, []);
      }
      // A restarted coordinator may hear of applied steps (the shards re-send them) before training starts.
      this.advanceSync();
      void this.drain();
      if (this.evalDue) {
        // The coordinator died between an epoch's last step and its evaluation.
        this.evalDue = false;
        void this.evaluateEpoch(this.step, Math.floor((this.step - 1) / this.plan.stepsPerEpoch) + 1).catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
        return;
      }
    }
    this.schedule();
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
    if (!this.allShardsReady()) {
      this.waitingWorkers.push({ connection, msg });
      return;
    }
    if (worker.state === WorkerState.Idle || worker.state === WorkerState.Busy) this.kill(worker, 'worker-disconnected');
    const old = worker.connection;
    worker.connection = connection;
    worker.generation++;
    worker.reconnects++;
    worker.lastSeen = Date.now();
    worker.state = transition('worker', worker.state, WorkerState.Idle);
    if (old.isOpen) old.close(4013, 'replaced by a new connection of the same worker');
    this.record('worker-reconnected', worker, undefined, `registered again with id ${worker.id}; generation ${worker.generation}`);
    this.log({ level: 'info', event: 'worker-rejoined', workerId: worker.id, name: worker.name, generation: worker.generation });
    void connection.reply(msg, { type: 'registered', workerId: worker.id, generation: worker.generation, config: this.options.job as unknown as JsonValue, shardUrls: this.shardUrls as string[], session: worker.session });
    this.watchLiveWorkers();
    this.schedule();
  }

  /** Leases pending micro-batches to idle workers (see the class comment for each mode's rule). */
  private schedule(): void {
    if (this.state !== JobState.Training || this.pausedForEval) return;
    const idle = [...this.workers.values()].filter((w) => w.state === WorkerState.Idle);
    if (idle.length === 0) return;
    if (!this.async) {
      // The step being leased may have closed meanwhile (a shard's report finished it while a worker
      // that then died still owed its leaseDone): move on first, or nothing would ever be leased.
      this.advanceSync();
      const step = this.leasing;
      const ids = this.ledger.take(step, Number.POSITIVE_INFINITY);
      const shares = idle.map(() => [] as number[]);
      const held: number[] = [];
      ids.forEach((id, i) => {
        // Contiguous blocks (worker k: the k-th of idle.length equal slices), so that the worker
        // holding micro-batch 0 holds a leading run and pushes it as one sum (pushRun); a
        // micro-batch refused to a worker as poisoned goes to the next one.
        const home = Math.floor((i * idle.length) / ids.length);
        const k = [...idle.keys()].map((j) => (home + j) % idle.length).find((j) => !this.refusals.refused(idle[j].id, step, id));
        if (k === undefined) held.push(id);
        else shares[k].push(id);
      });
      if (held.length > 0) this.ledger.requeue(step, held);
      idle.forEach((worker, k) => {
        if (shares[k].length > 0) this.lease(worker, step, shares[k].sort((a, b) => a - b));
      });
      this.considerBackup();
      return;
    }
    const live = [...this.workers.values()].filter((w) => w.state !== WorkerState.Dead).length;
    const chunk = Math.ceil(this.plan.microBatchesPerStep / Math.max(1, live));
    for (const worker of idle) {
      const next = this.nextAsyncWork(chunk);
      if (!next) return;
      this.lease(worker, next.step, next.ids);
    }
  }

  /** Async: up to `max` pending ids of the lowest open step that has some, opening steps of the current epoch as needed. */
  private nextAsyncWork(max: number): { step: number; ids: number[] } | undefined {
    for (const step of this.ledger.openSteps()) {
      if (this.ledger.pending(step).length > 0) return { step, ids: this.ledger.take(step, max) };
    }
    const epochEnd = Math.min(this.plan.totalSteps, (Math.floor(this.step / this.plan.stepsPerEpoch) + 1) * this.plan.stepsPerEpoch);
    if (this.nextToOpen >= epochEnd) return undefined;
    const step = this.nextToOpen++;
    this.ledger.openStep(step);
    return { step, ids: this.ledger.take(step, max) };
  }

  private lease(worker: WorkerEntry, step: number, ids: number[], backupOf?: LeaseEntry): void {
    const leaseId = this.nextLeaseId++;
    const deadlineMs = this.options.leaseTimeoutMs ?? this.options.job.config.leaseTimeoutMs;
    const timer = setTimeout(() => this.expire(lease), deadlineMs);
    timer.unref();
    const lease: LeaseEntry = { id: leaseId, step, ids, worker, state: LeaseState.Active, timer, startedAt: performance.now(), backupOf: backupOf?.id, backedUp: false };
    worker.state = transition('worker', worker.state, WorkerState.Busy);
    worker.lease = lease;
    worker.leases++;
    // Sync: the version of step t is t. Async: the newest version a shard reported, so the worker's pull never waits.
    const modelVersion = this.async ? Math.min(...this.shardVersions) : step;
    worker.issued.set(leaseId, { step, ids });
    const tickets = this.options.tickets?.mintLease(step, ids, leaseId);
    void worker.connection.send({ type: 'lease', leaseId, step, microBatchIds: ids, modelVersion, deadlineMs, ...(tickets ? { tickets } : {}) });
  }

  private leaseDone(connection: Connection, msg: MessageOf<'leaseDone'>): void {
    const worker = [...this.workers.values()].find((w) => w.connection === connection);
    if (!worker) throw new ProtocolError('E_ROLE', 'leaseDone from a connection that is not a registered worker; send register first', { ref: msg.seq });
    const issued = worker.issued.get(msg.leaseId);
    if (!issued) {
      // An earlier lease of a step closed meanwhile (those are forgotten): nothing left to complete.
      if (msg.step < this.step) return;
      throw new ProtocolError('E_RANGE', `leaseDone for lease ${msg.leaseId}, which ${worker.name} does not hold (never leased to it, or reported done already)`, { ref: msg.seq });
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
      if (msg.microBatchIds.length > 0) this.leaseMs.get(msg.step)?.push(performance.now() - lease.startedAt);
    }
    worker.microBatches += msg.microBatchIds.length;
    addSplit(worker.timing, msg);
    for (const id of msg.microBatchIds) if (!this.ledger.isIdDone(msg.step, id)) this.reportedBy.set(`${msg.step}:${id}`, worker);
    this.ledger.done(msg.step, msg.microBatchIds, msg.losses);
    if (unreported.length > 0) {
      const back = this.ledger.requeue(msg.step, unreported);
      if (back.length > 0) this.log({ level: 'info', event: 'lease-given-up', workerId: worker.id, leaseId: msg.leaseId, step: msg.step, microBatchIds: back });
    }
    if (msg.stale && msg.stale.length > 0) {
      const back = this.ledger.requeue(msg.step, msg.stale);
      this.staleReleased += back.length;
      this.log({ level: 'info', event: 'stale-released', workerId: worker.id, step: msg.step, microBatchIds: back });
    }
    if (msg.refused && msg.refused.length > 0) this.poisoned(worker, msg.step, msg.refused);
    this.revokeFinished(msg.step);
    this.advanceSync();
    void this.drain();
    this.schedule();
  }

  /**
   * The shards refused micro-batches of `worker` as poisoned: they go back to be leased to another
   * worker, and the worker is quarantined once it has `quarantineAfter` refusals.
   */
  private poisoned(worker: WorkerEntry, step: number, ids: readonly number[]): void {
    this.ledger.requeue(step, ids);
    this.strike(worker, step, ids, 'refused as poisoned (non-finite, or a norm over maxGradNorm)');
  }

  /**
   * Counts `ids` of `step` against `worker` (their micro-batches go to other workers from now on)
   * and quarantines it at quarantineAfter strikes: it gets no more leases and is told why.
   */
  private strike(worker: WorkerEntry, step: number, ids: readonly number[], what: string): void {
    const strikes = this.refusals.record(worker.id, step, ids);
    this.log({ level: 'warn', event: 'push-refused', workerId: worker.id, name: worker.name, step, microBatchIds: ids, strikes, what });
    const limit = this.options.job.config.quarantineAfter;
    if (strikes < limit || worker.state === WorkerState.Quarantined || worker.state === WorkerState.Dead) return;
    const lease = this.loseLease(worker);
    worker.state = transition('worker', worker.state, WorkerState.Quarantined);
    const why = `${strikes} of its micro-batches were ${what}; quarantineAfter is ${limit}`;
    this.record('worker-quarantined', worker, lease, `quarantined: ${why}; it gets no more leases`);
    this.log({ level: 'error', event: 'worker-quarantined', workerId: worker.id, name: worker.name, message: `worker ${worker.name} quarantined: ${why}; its micro-batches go to the other workers` });
    void worker.connection.send({ type: 'shutdown', reason: `quarantined: ${why}` });
    this.watchLiveWorkers();
  }

  /**
   * Revokes the running leases of `step` that have a backup twin and whose micro-batches are all
   * done (the backup, or the original, finished first). Other leases are left to finish: their ids
   * may be done only because a shard applied the pushes before the worker's leaseDone arrived.
   */
  private revokeFinished(step: number): void {
    for (const w of this.workers.values()) {
      const lease = w.lease;
      if (!lease || lease.step !== step || lease.state !== LeaseState.Active) continue;
      if (!lease.backedUp && lease.backupOf === undefined) continue;
      if (!lease.ids.every((id) => this.ledger.isIdDone(step, id))) continue;
      this.revoke(lease, 'its micro-batches were finished by another lease');
    }
  }

  private revoke(lease: LeaseEntry, reason: string): void {
    clearTimeout(lease.timer);
    lease.state = transition('lease', lease.state, LeaseState.Revoked);
    this.log({ level: 'info', event: 'lease-revoked', leaseId: lease.id, workerId: lease.worker.id, step: lease.step, reason });
    // The worker answers with an empty leaseDone, which frees it.
    void lease.worker.connection.send({ type: 'leaseRevoked', leaseId: lease.id, reason });
  }

  /**
   * Sync: when the step being leased has nothing pending, an idle worker and a lease running far
   * longer than the step's finished ones (backup-policy.ts), lease a copy of it to the idle worker.
   */
  private considerBackup(): void {
    clearTimeout(this.backupTimer);
    this.backupTimer = undefined;
    if (this.async || this.state !== JobState.Training || this.pausedForEval || this.ledger.pending(this.leasing).length > 0) return;
    const idle = [...this.workers.values()].filter((w) => w.state === WorkerState.Idle);
    if (idle.length === 0) return;
    const running = [...this.workers.values()]
      .map((w) => w.lease)
      .filter((l): l is LeaseEntry => l !== undefined && l.step === this.leasing && l.state === LeaseState.Active && !l.backedUp && l.backupOf === undefined);
    const decision = decideBackup(running.map((l) => ({ id: l.id, startedAt: l.startedAt })), this.leaseMs.get(this.leasing) ?? [], this.options.job.config.backupAfter, performance.now(), this.options.job.config.backupMinMs);
    if (decision.kind === 'wait') {
      this.backupTimer = setTimeout(() => this.considerBackup(), Math.max(1, decision.atMs - performance.now()));
      this.backupTimer.unref();
      return;
    }
    if (decision.kind !== 'backup') return;
    const original = running.find((l) => l.id === decision.leaseId)!;
    const ids = original.ids.filter((id) => !this.ledger.isIdDone(original.step, id));
    const helper = idle.find((w) => ids.every((id) => !this.refusals.refused(w.id, original.step, id)));
    if (ids.length === 0 || !helper) return;
    original.backedUp = true;
    original.worker.leasesBackedUp++;
    helper.backupLeases++;
    this.lease(helper, original.step, ids, original);
    this.log({ level: 'info', event: 'backup-leased', step: original.step, leaseId: original.id, ranMs: Math.round(performance.now() - original.startedAt), straggler: original.worker.name, helper: helper.name, microBatchIds: ids });
  }

  /**
   * Sync: once every micro-batch of the step being leased is done, lease the next step, unless an
   * evaluation or the end comes first. Each shard has then received every push of the step and
   * applies it before serving any pull of the next one, so the workers' pulls (held at the shard)
   * wait only for that apply, not for the coordinator to hear of it.
   */
  private advanceSync(): void {
    if (this.async) return;
    // A step drain() already closed (the shards' losses completed it before a leaseDone) is done too.
    while (this.ledger.isDone(this.leasing) || this.leasing < this.step) {
      const next = this.leasing + 1;
      if (next >= this.plan.totalSteps || next % this.plan.stepsPerEpoch === 0) return;
      this.leasing = next;
      this.ledger.openStep(next);
      this.leaseMs.set(next, []);
    }
  }

  /**
   * Closes complete steps in order: metrics, the epoch's evaluation (leasing paused), the end.
   * One drain runs at a time; stepApplied and leaseDone both call it.
   */
  private async drain(): Promise<void> {
    if (this.draining || this.state !== JobState.Training) return;
    this.draining = true;
    try {
      while (this.state === JobState.Training && this.ledger.isComplete(this.step)) {
        const t = this.step;
        const outcome = this.ledger.close(t);
        // 1-based, as metrics.jsonl and the progress display count epochs.
        const epoch = Math.floor(t / this.plan.stepsPerEpoch) + 1;
        this.epochLossSum += outcome.loss;
        this.epochSteps++;
        this.step = t + 1;
        const now = performance.now();
        if (this.step > this.warmSteps) this.stepMs.push(now - this.lastCloseAt - this.evalMs);
        this.lastCloseAt = now;
        this.evalMs = 0;
        this.leaseMs.delete(t);
        this.refusals.forgetBefore(t + 1);
        // Leases of closed steps are forgotten, but not a worker's current one: its leaseDone frees the worker.
        for (const w of this.workers.values()) for (const [id, lease] of w.issued) if (lease.step <= t && w.lease?.id !== id) w.issued.delete(id);
        for (const key of this.reportedBy.keys()) if (Number(key.slice(0, key.indexOf(':'))) <= t) this.reportedBy.delete(key);
        const last = t + 1 === this.plan.totalSteps;
        const epochEnd = (t + 1) % this.plan.stepsPerEpoch === 0;
        if (epochEnd || last) {
          this.trainLoss = this.epochLossSum / this.epochSteps;
          this.epochLossSum = 0;
          this.epochSteps = 0;
        }
        await this.options.onStep?.({ kind: 'step', step: t + 1, epoch, ...outcome });
        if (last) {
          this.state = transition('job', this.state, JobState.Finishing);
          const { params, bnState, test } = await this.evaluateAll(t + 1, epoch);
          await this.refreshShardStatus();
          this.stop();
          this.state = transition('job', this.state, JobState.Done);
          const workers = this.workerSummaries();
          this.settle.resolve({
            params,
            bnState,
            steps: t + 1,
            epochs: epoch,
            trainLoss: this.trainLoss,
            test,
            workers,
            faults: this.faults,
            backupLeases: this.backupLeases(),
            timing: perStep(workers.map((w) => w.timing), t + 1),
            staleReleased: this.staleReleased,
            shards: this.shardStatus,
            steadySamplesPerSecond: steadyRate(this.stepMs, this.options.job.config.batchSize),
          });
          return;
        }
        if (epochEnd) await this.evaluateEpoch(t + 1, epoch);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.draining = false;
    }
  }

  /** An epoch's end: leasing paused, validation (with a holdout) and test evaluation, then the next epoch's first step. */
  private async evaluateEpoch(steps: number, epoch: number): Promise<void> {
    this.pausedForEval = true;
    const evalStarted = performance.now();
    await this.evaluateAll(steps, epoch);
    await this.refreshShardStatus();
    this.evalMs += performance.now() - evalStarted;
    this.pausedForEval = false;
    if (!this.async) {
      this.leasing = steps;
      this.ledger.openStep(steps);
      this.leaseMs.set(steps, []);
    }
    this.schedule();
  }

  private async evaluateAll(steps: number, epoch: number): Promise<{ params: Float32Array; bnState: Float32Array | undefined; test: Evaluation }> {
    const { params, bnState } = await this.pullParams(steps);
    if (this.options.validate) {
      const validation = await this.options.validate(params, bnState);
      await this.options.onEval?.({ kind: 'eval', step: steps, epoch, split: 'validation', ...validation });
    }
    const test = await this.options.evaluate(params, bnState);
    await this.options.onEval?.({ kind: 'eval', step: steps, epoch, split: 'test', ...test });
    return { params, bnState, test };
  }

  /** The parameters and running statistics after `step` steps, assembled from every shard. */
  private async pullParams(step: number): Promise<{ params: Float32Array; bnState: Float32Array | undefined }> {
    const params = new Float32Array(this.options.paramCount);
    let bnState: Float32Array | undefined;
    // Async: the version counts applied micro-batches, M per step.
    const at = this.async ? { minVersion: step * this.plan.microBatchesPerStep } : { step };
    const replies = await Promise.all(
      this.shards.map((s, i) => {
        if (!s?.isOpen) throw new ProtocolError('E_CLOSED', `parameter-server shard ${i} is gone; the job cannot finish without its parameters`);
        return s.request({ type: 'pull', ...at, raw: true }, { timeoutMs: 600_000 });
      }),
    );
    for (const reply of replies) {
      params.set(reply.values, reply.offset);
      if (reply.bnState) bnState = reply.bnState.slice();
    }
    return { params, bnState };
  }

  private expire(lease: LeaseEntry): void {
    if (lease.state !== LeaseState.Active) return;
    lease.state = transition('lease', lease.state, LeaseState.Expired);
    this.requeue(lease);
    this.record('lease-expired', lease.worker, lease, `re-leased micro-batches ${lease.ids.join(', ')} of step ${lease.step}`);
    this.schedule();
  }

  private closed(connection: Connection, code: number, reason: string): void {
    // After the end every peer leaves on the shutdown; that is no fault.
    if (this.state === JobState.Done || this.state === JobState.Failed) return;
    const shard = this.shards.indexOf(connection);
    if (shard >= 0) {
      this.shardLost(shard, `${code} ${reason}`);
      return;
    }
    const worker = [...this.workers.values()].find((w) => w.connection === connection);
    if (worker && (worker.state === WorkerState.Idle || worker.state === WorkerState.Busy)) this.kill(worker, 'worker-disconnected');
  }

  private checkHeartbeats(timeoutMs: number): void {
    const now = Date.now();
    for (const w of this.workers.values()) {
      if ((w.state === WorkerState.Idle || w.state === WorkerState.Busy) && now - w.lastSeen > timeoutMs) {
        this.kill(w, 'worker-timeout');
        w.connection.close(4011, 'heartbeat missed');
      }
    }
    this.checkStall(now, timeoutMs);
    this.reportWaiting(now);
  }

  /**
   * While the job cannot start (or go on after a shard was lost), says every WAIT_REPORT_MS what
   * it waits for, so that a shard that failed to start is not a silent hang.
   */
  private reportWaiting(now: number): void {
    if (this.state !== JobState.Waiting && this.state !== JobState.Recovering) {
      this.waitingSince = undefined;
      return;
    }
    this.waitingSince ??= now;
    if (now - this.waitingSince < WAIT_REPORT_MS || now - this.lastWaitReport < WAIT_REPORT_MS) return;
    this.lastWaitReport = now;
    const missing = this.shardUrls.map((u, i) => (u === undefined ? i : -1)).filter((i) => i >= 0);
    const workers = [...this.workers.values()].filter((w) => w.state === WorkerState.Idle || w.state === WorkerState.Busy).length + this.waitingWorkers.length;
    const shards = missing.length > 0 ? `parameter-server shard(s) ${missing.join(', ')} to register and say ready (dptrain ps --shard N)` : 'nothing from the shards';
    this.log({
      level: 'warn',
      event: 'waiting',
      state: this.state,
      shards: missing,
      workers,
      message: `${this.state} for ${Math.round((now - this.waitingSince) / 1000)} s: waiting for ${shards}${this.state === JobState.Waiting ? ` and a worker (${workers} connected)` : ''}; a process that failed to start says why in its own log`,
    });
  }

  /**
   * The watchdog of a step whose micro-batches the workers all reported done but that some shard
   * has not applied (a worker reported a lease done without pushing it, or a push was lost): after
   * `timeoutMs` of that, every lease is revoked and what a shard had not applied is leased again.
   */
  private checkStall(now: number, timeoutMs: number): void {
    const t = this.step;
    if (this.state !== JobState.Training || this.pausedForEval || !this.ledger.isDone(t) || this.ledger.isComplete(t)) {
      this.stalled = undefined;
      return;
    }
    if (this.stalled?.step !== t) {
      this.stalled = { step: t, since: now };
      return;
    }
    if (now - this.stalled.since <= timeoutMs) return;
    this.stalled = undefined;
    const waiting = this.shards.map((_, s) => s).filter((s) => !this.ledger.appliedBy(t, s));
    this.record('step-stalled', undefined, undefined, `step ${t} reported done by the workers but not applied by shard(s) ${waiting.join(', ')} for ${timeoutMs} ms; its micro-batches are leased again`);
    this.log({ level: 'warn', event: 'step-stalled', step: t, shards: waiting });
    // Whoever reported a micro-batch done that a shard never got is suspect: it may report without pushing.
    const suspects = new Map<WorkerEntry, number[]>();
    for (const id of this.ledger.notAppliedEverywhere(t)) {
      const worker = this.reportedBy.get(`${t}:${id}`);
      if (worker) suspects.set(worker, [...(suspects.get(worker) ?? []), id]);
    }
    for (const [worker, ids] of suspects) this.strike(worker, t, ids, 'reported done but never reached a shard');
    this.releaseRunningLeases(`step ${t} stalled; it is leased again`);
    this.leaseAgain();
  }

  /** Revokes every running lease; their micro-batches go back to be leased. */
  private releaseRunningLeases(reason: string): void {
    for (const w of this.workers.values()) {
      const lease = w.lease;
      if (lease?.state === LeaseState.Active) {
        this.revoke(lease, reason);
        this.requeue(lease);
      }
    }
  }

  /** Every micro-batch of an open step that some shard has not applied is leased again. */
  private leaseAgain(): void {
    for (const step of this.ledger.openSteps()) {
      const back = this.ledger.reopen(step);
      if (back.length > 0) this.log({ level: 'info', event: 'step-reopened', step, microBatchIds: back });
    }
    if (!this.async) this.leasing = Math.max(this.step, Math.min(this.leasing, ...this.ledger.openSteps()));
    void this.drain();
    this.schedule();
  }

  /** Takes the worker's lease away; a running one is lost and its micro-batches go back to be leased (returned). */
  private loseLease(worker: WorkerEntry): LeaseEntry | undefined {
    const lease = worker.lease;
    worker.lease = undefined;
    if (!lease || lease.state !== LeaseState.Active) return undefined;
    clearTimeout(lease.timer);
    lease.state = transition('lease', lease.state, LeaseState.Lost);
    this.requeue(lease);
    return lease;
  }

  private kill(worker: WorkerEntry, kind: 'worker-disconnected' | 'worker-timeout'): void {
    worker.state = transition('worker', worker.state, WorkerState.Dead);
    const lease = this.loseLease(worker);
    if (lease) {
      this.record(kind, worker, lease, `worker marked dead; re-leased micro-batches ${lease.ids.join(', ')} of step ${lease.step}`);
    } else {
      this.record(kind, worker, undefined, 'worker marked dead; it held no lease');
    }
    this.log({ level: 'warn', event: kind, workerId: worker.id, name: worker.name });
    this.watchLiveWorkers();
    this.schedule();
  }

  /**
   * With no live worker (all dead or quarantined) the job waits `workerlessTimeoutMs` for one to
   * register, then fails with the reason; a worker joining stops the clock.
   */
  private watchLiveWorkers(): void {
    const live = [...this.workers.values()].some((w) => w.state === WorkerState.Idle || w.state === WorkerState.Busy);
    if (live || this.state === JobState.Waiting) {
      clearTimeout(this.noWorkerTimer);
      this.noWorkerTimer = undefined;
      return;
    }
    if (this.noWorkerTimer) return;
    const waitMs = this.options.job.config.workerlessTimeoutMs;
    this.log({ level: 'warn', event: 'no-workers', message: `no live worker; waiting up to ${waitMs} ms for one to register` });
    this.noWorkerTimer = setTimeout(() => {
      const quarantined = [...this.workers.values()].filter((w) => w.state === WorkerState.Quarantined).length;
      this.fail(
        new ProtocolError(
          'E_CLOSED',
          `no live worker for ${waitMs} ms (${this.workers.size} registered: ${quarantined} quarantined, the others dead) at step ${this.step} of ${this.plan.totalSteps}; start workers with \`dptrain worker --coordinator <url>\`, or raise --workerless-timeout-ms`,
        ),
      );
    }, waitMs);
    this.noWorkerTimer.unref();
  }

  /**
   * A shard's connection closed. Its slice lives on only in its checkpoint and write-ahead log, so
   * leasing stops and every running lease is revoked (their pulls and pushes involve the lost
   * shard); the job waits `shardRestartTimeoutMs` for the shard to register again.
   */
  private shardLost(shard: number, why: string): void {
    this.shardUrls[shard] = undefined;
    if (this.state === JobState.Waiting) return;
    if (this.state === JobState.Finishing) {
      this.fail(new ProtocolError('E_CLOSED', `parameter-server shard ${shard} disconnected (${why}) during the final evaluation; rerun the job`));
      return;
    }
    if (this.state !== JobState.Training && this.state !== JobState.Recovering) return;
    if (this.state === JobState.Training) this.state = transition('job', this.state, JobState.Recovering);
    const waitMs = this.options.job.config.shardRestartTimeoutMs;
    this.record('shard-lost', undefined, undefined, `connection closed (${why}); leases revoked, waiting up to ${waitMs} ms for it to register again`, `ps-${shard}`);
    this.log({ level: 'warn', event: 'shard-lost', shard, message: `parameter-server shard ${shard} lost (${why}); waiting up to ${waitMs} ms for it to come back (dptrain ps --shard ${shard} --resume)` });
    this.releaseRunningLeases(`parameter-server shard ${shard} was lost; the step is leased again once it is back`);
    this.shardTimer ??= setTimeout(() => {
      const missing = this.shardUrls.map((u, i) => (u === undefined ? i : -1)).filter((i) => i >= 0);
      this.fail(new ProtocolError('E_CLOSED', `parameter-server shard(s) ${missing.join(', ')} did not come back within ${waitMs} ms; restart each with \`dptrain ps --shard N --resume\` (dptrain local does this by itself), or raise --shard-restart-timeout-ms`));
    }, waitMs);
    this.shardTimer.unref();
  }

  /** Every shard is back: the micro-batches some shard had not applied are leased again. */
  private recover(): void {
    clearTimeout(this.shardTimer);
    this.shardTimer = undefined;
    this.state = transition('job', this.state, JobState.Training);
    this.log({ level: 'info', event: 'recovered', step: this.step, shardVersions: this.shardVersions });
    this.leaseAgain();
  }

  private requeue(lease: LeaseEntry): void {
    this.ledger.requeue(lease.step, lease.ids);
  }

  private record(kind: FaultRecord['kind'], worker: WorkerEntry | undefined, lease: LeaseEntry | undefined, action: string, name = 'coordinator'): void {
    const record: FaultRecord = { kind, workerId: worker?.id ?? -1, name: worker?.name ?? name, step: lease?.step ?? this.step, microBatchIds: lease?.ids ?? [], action, atMs: Date.now() - this.started };
    this.faults.push(record);
    void this.options.onFault?.(record);
  }

  private fail(error: Error): void {
    if (this.state === JobState.Done || this.state === JobState.Failed) return;
    this.state = transition('job', this.state, JobState.Failed);
    this.stop();
    this.log({ level: 'error', event: 'job-failed', message: error.message });
    this.settle.reject(error);
  }

  private backupLeases(): number {
    return [...this.workers.values()].reduce((n, w) => n + w.backupLeases, 0);
  }

  /** In id order (workers that asked for ids may have registered in another). */
  private workerSummaries(): WorkerSummary[] {
    return [...this.workers.values()].sort((a, b) => a.id - b.id).map((w) => ({
      workerId: w.id,
      name: w.name,
      backend: w.backend,
      state: w.state,
      leases: w.leases,
      microBatches: w.microBatches,
      reconnects: w.reconnects,
      backupLeases: w.backupLeases,
      leasesBackedUp: w.leasesBackedUp,
      timing: { ...w.timing },
    }));
  }
}
