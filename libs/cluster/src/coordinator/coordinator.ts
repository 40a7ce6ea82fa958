import { ProtocolError, silentLogger, type Connection, type JsonValue, type Logger, type Message, type MessageOf } from '@dptrain/protocol';
import { planSizes, type JobDescription, type PlanSizes } from '../job.js';
import { JobState, LeaseState, WorkerState, transition } from '../lifecycle.js';
import { steadyRate } from './steady-rate.js';
import { StepLedger } from './step-ledger.js';
import { addSplit, emptySplit, perStep, type TimeSplit } from './time-split.js';

export interface CoordinatorOptions {
  readonly job: JobDescription;
  readonly paramCount: number;
  /** Evaluates the test split on full parameters and running statistics. */
  readonly evaluate: (params: Float32Array, bnState: Float32Array | undefined) => Promise<{ loss: number; accuracy: number }> | { loss: number; accuracy: number };
  readonly onStep?: (record: { kind: 'step'; step: number; epoch: number; loss: number; lr: number; gradNorm: number }) => void | Promise<void>;
  readonly onEval?: (record: { kind: 'eval'; step: number; epoch: number; split: 'test'; loss: number; accuracy: number }) => void | Promise<void>;
  /** A worker silent for this long is dead. @default 10_000 */
  readonly workerTimeoutMs?: number;
  /** A lease not done within this long is re-leased. @default 120_000 */
  readonly leaseTimeoutMs?: number;
  /** @default silentLogger */
  readonly log?: Logger;
}

/** One fault the coordinator saw, and what it did about it (summary.json `faults`). */
export interface FaultRecord {
  readonly kind: 'worker-disconnected' | 'worker-timeout' | 'lease-expired' | 'worker-reconnected';
  readonly workerId: number;
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
  readonly timing: TimeSplit;
}

interface LeaseEntry {
  readonly id: number;
  readonly step: number;
  readonly ids: number[];
  readonly worker: WorkerEntry;
  state: LeaseState;
  readonly timer: NodeJS.Timeout;
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
  private readonly faults: FaultRecord[] = [];
  private readonly started = Date.now();
  private readonly sweep: NodeJS.Timeout;
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
    const timeout = options.workerTimeoutMs ?? 10_000;
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
          this.ledger.applied(msg.step, msg.microBatchIds, msg.lr, msg.gradNorm, msg.losses);
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
      if (known && known.name === msg.name) {
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
      this.shards[msg.shard] = connection;
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
    for (const { connection: c, msg: m } of this.waitingWorkers.splice(0)) if (c.isOpen) this.register(c, m);
  }

  private allShardsReady(): boolean {
    return this.shardUrls.every((u) => u !== undefined);
  }

  private admit(connection: Connection, msg: MessageOf<'register'>): void {
    const id = this.nextWorkerId++;
    const entry: WorkerEntry = { id, name: msg.name, backend: msg.backend, connection, generation: 0, state: WorkerState.Idle, lastSeen: Date.now(), lease: undefined, leases: 0, microBatches: 0, reconnects: 0, timing: emptySplit() };
    this.workers.set(id, entry);
    void connection.reply(msg, { type: 'registered', workerId: id, generation: 0, config: this.options.job as unknown as JsonValue, shardUrls: this.shardUrls as string[] });
    this.log({ level: 'info', event: 'worker-joined', workerId: id, name: msg.name, backend: msg.backend });
    if (this.state === JobState.Waiting) {
      this.state = transition('job', this.state, JobState.Training);
      if (!this.async) this.ledger.openStep(this.leasing);
    }
    this.schedule();
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
    if (worker.state !== WorkerState.Dead) this.kill(worker, 'worker-disconnected');
    const old = worker.connection;
    worker.connection = connection;
    worker.generation++;
    worker.reconnects++;
    worker.lastSeen = Date.now();
    worker.state = transition('worker', worker.state, WorkerState.Idle);
    if (old.isOpen) old.close(4013, 'replaced by a new connection of the same worker');
    this.record('worker-reconnected', worker, undefined, `registered again with id ${worker.id}; generation ${worker.generation}`);
    this.log({ level: 'info', event: 'worker-rejoined', workerId: worker.id, name: worker.name, generation: worker.generation });
    void connection.reply(msg, { type: 'registered', workerId: worker.id, generation: worker.generation, config: this.options.job as unknown as JsonValue, shardUrls: this.shardUrls as string[] });
    this.schedule();
  }

  /** Leases pending micro-batches to idle workers (see the class comment for each mode's rule). */
  private schedule(): void {
    if (this.state !== JobState.Training || this.pausedForEval) return;
    const idle = [...this.workers.values()].filter((w) => w.state === WorkerState.Idle);
    if (idle.length === 0) return;
    if (!this.async) {
      const step = this.leasing;
      const ids = this.ledger.take(step, Number.POSITIVE_INFINITY);
      idle.forEach((worker, k) => {
        const share = ids.filter((_, i) => i % idle.length === k);
        if (share.length > 0) this.lease(worker, step, share);
      });
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

  private lease(worker: WorkerEntry, step: number, ids: number[]): void {
    const leaseId = this.nextLeaseId++;
    const deadlineMs = this.options.leaseTimeoutMs ?? 120_000;
    const timer = setTimeout(() => this.expire(lease), deadlineMs);
    timer.unref();
    const lease: LeaseEntry = { id: leaseId, step, ids, worker, state: LeaseState.Active, timer };
    worker.state = transition('worker', worker.state, WorkerState.Busy);
    worker.lease = lease;
    worker.leases++;
    // Sync: the version of step t is t. Async: the newest version a shard reported, so the worker's pull never waits.
    const modelVersion = this.async ? Math.min(...this.shardVersions) : step;
    void worker.connection.send({ type: 'lease', leaseId, step, microBatchIds: ids, modelVersion, deadlineMs });
  }

  private leaseDone(connection: Connection, msg: MessageOf<'leaseDone'>): void {
    const worker = [...this.workers.values()].find((w) => w.connection === connection);
    if (!worker) throw new ProtocolError('E_ROLE', 'leaseDone from a connection that is not a registered worker; send register first', { ref: msg.seq });
    const lease = worker.lease;
    // A late leaseDone of an expired or lost lease still completes its ids: the shards acknowledged the pushes.
    if (lease && lease.id === msg.leaseId) {
      clearTimeout(lease.timer);
      lease.state = transition('lease', lease.state, LeaseState.Done);
      worker.lease = undefined;
      if (worker.state === WorkerState.Busy) worker.state = transition('worker', worker.state, WorkerState.Idle);
    }
    worker.microBatches += msg.microBatchIds.length;
    addSplit(worker.timing, msg);
    this.ledger.done(msg.step, msg.microBatchIds, msg.losses);
    if (msg.stale && msg.stale.length > 0) {
      const back = this.ledger.requeue(msg.step, msg.stale);
      this.staleReleased += back.length;
      this.log({ level: 'info', event: 'stale-released', workerId: worker.id, step: msg.step, microBatchIds: back });
    }
    this.advanceSync();
    void this.drain();
    this.schedule();
  }

  /**
   * Sync: once every micro-batch of the step being leased is done, lease the next step, unless an
   * evaluation or the end comes first. Each shard has then received every push of the step and
   * applies it before serving any pull of the next one, so the workers' pulls (held at the shard)
   * wait only for that apply, not for the coordinator to hear of it.
   */
  private advanceSync(): void {
    // A step drain() already closed (the shards' losses completed it before a leaseDone) is done too.
    if (this.async || !(this.ledger.isDone(this.leasing) || this.leasing < this.step)) return;
    const next = this.leasing + 1;
    if (next >= this.plan.totalSteps || next % this.plan.stepsPerEpoch === 0) return;
    this.leasing = next;
    this.ledger.openStep(next);
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
        const epoch = Math.floor(t / this.plan.stepsPerEpoch);
        this.epochLossSum += outcome.loss;
        this.epochSteps++;
        this.step = t + 1;
        const now = performance.now();
        if (this.step > this.warmSteps) this.stepMs.push(now - this.lastCloseAt - this.evalMs);
        this.lastCloseAt = now;
        this.evalMs = 0;
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
          const { params, bnState } = await this.pullParams(t + 1);
          const test = await this.options.evaluate(params, bnState);
          await this.options.onEval?.({ kind: 'eval', step: t + 1, epoch, split: 'test', ...test });
          await this.refreshShardStatus();
          this.stop();
          this.state = transition('job', this.state, JobState.Done);
          const workers = this.workerSummaries();
          this.settle.resolve({
            params,
            bnState,
            steps: t + 1,
            epochs: epoch + 1,
            trainLoss: this.trainLoss,
            test,
            workers,
            faults: this.faults,
            timing: perStep(workers.map((w) => w.timing), t + 1),
            staleReleased: this.staleReleased,
            shards: this.shardStatus,
            steadySamplesPerSecond: steadyRate(this.stepMs, this.options.job.config.batchSize),
          });
          return;
        }
        if (epochEnd) {
          this.pausedForEval = true;
          const evalStarted = performance.now();
          const { params, bnState } = await this.pullParams(t + 1);
          const test = await this.options.evaluate(params, bnState);
          await this.options.onEval?.({ kind: 'eval', step: t + 1, epoch, split: 'test', ...test });
          await this.refreshShardStatus();
          this.evalMs += performance.now() - evalStarted;
          this.pausedForEval = false;
          if (!this.async) {
            this.leasing = t + 1;
            this.ledger.openStep(t + 1);
          }
          this.schedule();
        }
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.draining = false;
    }
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
      if (this.state === JobState.Training || this.state === JobState.Finishing || this.state === JobState.Waiting) {
        this.fail(new ProtocolError('E_CLOSED', `parameter-server shard ${shard} disconnected (${code} ${reason}); its slice of the parameters is lost, the job stops`));
      }
      return;
    }
    const worker = [...this.workers.values()].find((w) => w.connection === connection);
    if (worker && worker.state !== WorkerState.Dead) this.kill(worker, 'worker-disconnected');
  }

  private checkHeartbeats(timeoutMs: number): void {
    const now = Date.now();
    for (const w of this.workers.values()) {
      if (w.state !== WorkerState.Dead && now - w.lastSeen > timeoutMs) {
        this.kill(w, 'worker-timeout');
        w.connection.close(4011, 'heartbeat missed');
      }
    }
  }

  private kill(worker: WorkerEntry, kind: 'worker-disconnected' | 'worker-timeout'): void {
    worker.state = transition('worker', worker.state, WorkerState.Dead);
    const lease = worker.lease;
    worker.lease = undefined;
    if (lease && lease.state === LeaseState.Active) {
      clearTimeout(lease.timer);
      lease.state = transition('lease', lease.state, LeaseState.Lost);
      this.requeue(lease);
      this.record(kind, worker, lease, `worker marked dead; re-leased micro-batches ${lease.ids.join(', ')} of step ${lease.step}`);
    } else {
      this.record(kind, worker, undefined, 'worker marked dead; it held no lease');
    }
    this.log({ level: 'warn', event: kind, workerId: worker.id, name: worker.name });
    if (this.state === JobState.Training && ![...this.workers.values()].some((w) => w.state !== WorkerState.Dead)) {
      this.log({ level: 'warn', event: 'no-workers', message: 'every worker is dead; waiting for a worker to register' });
    }
    this.schedule();
  }

  private requeue(lease: LeaseEntry): void {
    this.ledger.requeue(lease.step, lease.ids);
  }

  private record(kind: FaultRecord['kind'], worker: WorkerEntry, lease: LeaseEntry | undefined, action: string): void {
    this.faults.push({ kind, workerId: worker.id, name: worker.name, step: lease?.step ?? this.step, microBatchIds: lease?.ids ?? [], action, atMs: Date.now() - this.started });
  }

  private fail(error: Error): void {
    if (this.state === JobState.Done || this.state === JobState.Failed) return;
    this.state = transition('job', this.state, JobState.Failed);
    this.stop();
    this.log({ level: 'error', event: 'job-failed', message: error.message });
    this.settle.reject(error);
  }

  private workerSummaries(): WorkerSummary[] {
    return [...this.workers.values()].map((w) => ({
      workerId: w.id,
      name: w.name,
      backend: w.backend,
      state: w.state,
      leases: w.leases,
      microBatches: w.microBatches,
      reconnects: w.reconnects,
      timing: { ...w.timing },
    }));
  }
}
