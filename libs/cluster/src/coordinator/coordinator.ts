import { ProtocolError, silentLogger, type Connection, type JsonValue, type Logger, type Message, type MessageOf } from '@dptrain/protocol';
import { planSizes, type JobDescription, type PlanSizes } from '../job.js';
import { JobState, LeaseState, WorkerState, transition } from '../lifecycle.js';

export interface CoordinatorOptions {
  readonly job: JobDescription;
  readonly paramCount: number;
  /** Evaluates the test split on full parameters and running statistics. */
  readonly evaluate: (params: Float32Array, bnState: Float32Array | undefined) => Promise<{ loss: number; accuracy: number }> | { loss: number; accuracy: number };
  readonly onStep?: (record: { kind: 'step'; step: number; epoch: number; loss: number }) => void | Promise<void>;
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
  readonly kind: 'worker-disconnected' | 'worker-timeout' | 'lease-expired';
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
}

interface WorkerEntry {
  readonly id: number;
  readonly name: string;
  readonly backend: string;
  readonly connection: Connection;
  state: WorkerState;
  lastSeen: number;
  lease: LeaseEntry | undefined;
  leases: number;
  microBatches: number;
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
 * waits until every shard is ready, so it carries every shard URL), leases the micro-batches of
 * step t to idle workers round-robin, leases step t+1 once every micro-batch of t is done (each
 * shard has then applied t), re-leases the work of dead or overdue workers, evaluates at each
 * epoch's end and at the end on parameters pulled from the shards, and owns every worker, lease
 * and job state transition.
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
  private step = 0;
  private pending: number[] = [];
  private readonly losses: (number | undefined)[];
  private doneCount = 0;
  private pausedForEval = false;
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
    this.losses = new Array<number | undefined>(this.plan.microBatchesPerStep).fill(undefined);
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
      workers: this.workerSummaries() as unknown as JsonValue,
      faults: this.faults as unknown as JsonValue,
    };
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
          if (s >= 0) this.shardVersions[s] = Math.max(this.shardVersions[s], msg.version);
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
    for (const { connection: c, msg: m } of this.waitingWorkers.splice(0)) if (c.isOpen) this.admit(c, m);
  }

  private allShardsReady(): boolean {
    return this.shardUrls.every((u) => u !== undefined);
  }

  private admit(connection: Connection, msg: MessageOf<'register'>): void {
    const id = this.nextWorkerId++;
    const entry: WorkerEntry = { id, name: msg.name, backend: msg.backend, connection, state: WorkerState.Idle, lastSeen: Date.now(), lease: undefined, leases: 0, microBatches: 0 };
    this.workers.set(id, entry);
    void connection.reply(msg, { type: 'registered', workerId: id, generation: id, config: this.options.job as unknown as JsonValue, shardUrls: this.shardUrls as string[] });
    this.log({ level: 'info', event: 'worker-joined', workerId: id, name: msg.name, backend: msg.backend });
    if (this.state === JobState.Waiting) {
      this.state = transition('job', this.state, JobState.Training);
      this.beginStep();
    } else {
      this.schedule();
    }
  }

  private beginStep(): void {
    this.pending = Array.from({ length: this.plan.microBatchesPerStep }, (_, i) => i);
    this.losses.fill(undefined);
    this.doneCount = 0;
    this.schedule();
  }

  /** Leases the pending micro-batches of the current step to idle workers, round-robin. */
  private schedule(): void {
    if (this.state !== JobState.Training || this.pausedForEval || this.pending.length === 0) return;
    const idle = [...this.workers.values()].filter((w) => w.state === WorkerState.Idle);
    if (idle.length === 0) return;
    const ids = this.pending.splice(0).sort((a, b) => a - b);
    idle.forEach((worker, k) => {
      const share = ids.filter((_, i) => i % idle.length === k);
      if (share.length > 0) this.lease(worker, share);
    });
  }

  private lease(worker: WorkerEntry, ids: number[]): void {
    const leaseId = this.nextLeaseId++;
    const deadlineMs = this.options.leaseTimeoutMs ?? 120_000;
    const timer = setTimeout(() => this.expire(lease), deadlineMs);
    timer.unref();
    const lease: LeaseEntry = { id: leaseId, step: this.step, ids, worker, state: LeaseState.Active, timer };
    worker.state = transition('worker', worker.state, WorkerState.Busy);
    worker.lease = lease;
    worker.leases++;
    void worker.connection.send({ type: 'lease', leaseId, step: this.step, microBatchIds: ids, modelVersion: this.step, deadlineMs });
  }

  private leaseDone(connection: Connection, msg: MessageOf<'leaseDone'>): void {
    const worker = [...this.workers.values()].find((w) => w.connection === connection);
    if (!worker) throw new ProtocolError('E_ROLE', 'leaseDone from a connection that is not a registered worker; send register first', { ref: msg.seq });
    const lease = worker.lease;
    if (lease && lease.id === msg.leaseId) {
      clearTimeout(lease.timer);
      lease.state = transition('lease', lease.state, LeaseState.Done);
      worker.lease = undefined;
      worker.microBatches += msg.microBatchIds.length;
    }
    if (worker.state === WorkerState.Busy) worker.state = transition('worker', worker.state, WorkerState.Idle);
    if (msg.step === this.step) {
      msg.microBatchIds.forEach((id, k) => {
        if (this.losses[id] !== undefined) return;
        this.losses[id] = msg.losses[k];
        this.doneCount++;
        const at = this.pending.indexOf(id);
        if (at >= 0) this.pending.splice(at, 1);
      });
    }
    if (this.doneCount === this.plan.microBatchesPerStep) void this.finishStep();
    else this.schedule();
  }

  private async finishStep(): Promise<void> {
    const t = this.step;
    // The reference trainer's loss: the micro-batch losses summed in id order, over M.
    let lossSum = 0;
    for (const l of this.losses) lossSum += l!;
    const loss = lossSum / this.plan.microBatchesPerStep;
    const epoch = Math.floor(t / this.plan.stepsPerEpoch);
    this.epochLossSum += loss;
    this.epochSteps++;
    this.step = t + 1;
    this.pausedForEval = true;
    try {
      await this.options.onStep?.({ kind: 'step', step: t + 1, epoch, loss });
      const last = t + 1 === this.plan.totalSteps;
      if ((t + 1) % this.plan.stepsPerEpoch === 0 || last) {
        this.trainLoss = this.epochLossSum / this.epochSteps;
        this.epochLossSum = 0;
        this.epochSteps = 0;
      }
      if (last) {
        this.state = transition('job', this.state, JobState.Finishing);
        const { params, bnState } = await this.pullParams(t + 1);
        const test = await this.options.evaluate(params, bnState);
        await this.options.onEval?.({ kind: 'eval', step: t + 1, epoch, split: 'test', ...test });
        this.stop();
        this.state = transition('job', this.state, JobState.Done);
        this.settle.resolve({ params, bnState, steps: t + 1, epochs: epoch + 1, trainLoss: this.trainLoss, test, workers: this.workerSummaries(), faults: this.faults });
        return;
      }
      if ((t + 1) % this.plan.stepsPerEpoch === 0) {
        const { params, bnState } = await this.pullParams(t + 1);
        const test = await this.options.evaluate(params, bnState);
        await this.options.onEval?.({ kind: 'eval', step: t + 1, epoch, split: 'test', ...test });
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.pausedForEval = false;
    this.beginStep();
  }

  /** The parameters and running statistics after `step` steps, assembled from every shard. */
  private async pullParams(step: number): Promise<{ params: Float32Array; bnState: Float32Array | undefined }> {
    const params = new Float32Array(this.options.paramCount);
    let bnState: Float32Array | undefined;
    const replies = await Promise.all(
      this.shards.map((s, i) => {
        if (!s?.isOpen) throw new ProtocolError('E_CLOSED', `parameter-server shard ${i} is gone; the job cannot finish without its parameters`);
        return s.request({ type: 'pull', step, raw: true }, { timeoutMs: 600_000 });
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
    if (lease.step !== this.step) return;
    for (const id of lease.ids) if (this.losses[id] === undefined && !this.pending.includes(id)) this.pending.push(id);
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
    return [...this.workers.values()].map((w) => ({ workerId: w.id, name: w.name, backend: w.backend, state: w.state, leases: w.leases, microBatches: w.microBatches }));
  }
}
