import { combineMicroBatchMoments, updateRunningStats, type BnSpec } from '@dptrain/model/stats';
import { join } from 'node:path';
import { GradientSum, globalNorm, scaleFromZero, type OptimizerState } from '@dptrain/optim';
import { firstNonFinite, ProtocolError, silentLogger, type Connection, type Logger, type Message, type MessageOf, type ValidateOptions } from '@dptrain/protocol';
import { UpdateRule } from '@dptrain/training';
import { bnStatsLength, unpackMoments, type WireMoments } from '../bn-wire.js';
import { planSizes, type JobDescription, type PlanSizes } from '../job.js';
import { modelOf } from '../model-of.js';
import { shardRange, type ShardRange } from '../shards.js';
import { AppliedLedger } from './applied-ledger.js';
import type { ShardSnapshot } from './checkpoint-file.js';
import type { LeaseTickets } from '../lease-ticket.js';
import { jobFingerprint } from './job-fingerprint.js';
import { PreviousPoint, type PointView } from './previous-point.js';
import { readSavedJob, writeSavedJob } from './saved-job.js';
import { ShardDurability, type DurabilityOptions } from './shard-durability.js';
import { WireBytes } from './wire-bytes.js';
import type { WalRecord } from './write-ahead-log.js';

/** An update whose mean gradient or resulting parameters are not finite: the shard refuses it. */
class NonFiniteUpdate extends Error {}

/** Sync: the furthest step past its version a shard holds a pull for. */
const SYNC_PULL_AHEAD = 2;

/** Pulls one connection may have waiting for new versions at once. */
export const MAX_HELD_PULLS = 4;

/** AppliedReports a shard keeps to re-send to a restarted coordinator. */
const RECENT_APPLIED = 8;

/**
 * The longest a served update's log append and report wait for its replies to be written: a peer
 * that stopped reading (a frozen worker with full socket buffers) must not hold up stepApplied.
 */
export const SETTLE_WAIT_MS = 50;

export interface ParameterServerOptions {
  readonly job: JobDescription;
  /** This shard's index, 0..psShards−1. */
  readonly shard: number;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Called after each optimizer update (sync: a whole step; async: one micro-batch). */
  readonly onApplied?: (applied: AppliedReport) => void;
  /**
   * Called when the shard must not go on: its write-ahead log failed after an update was made and
   * served. The process should stop, as a kill would; restarted with resume it comes back at the
   * last logged version and the coordinator leases the lost step again. @default throws it as an
   *   uncaught exception
   */
  readonly onFatal?: (error: Error) => void;
  /**
   * Called when the shard refuses a step whose mean gradient or resulting parameters are not
   * finite (nothing of it was served or logged; the shard then refuses every push and pull): tell
   * the coordinator, which fails the job. @default nothing
   */
  readonly onRefused?: (refusal: StepRefusal) => void;
  /**
   * Checks each push's lease ticket before the push can touch the shard (lease-ticket.ts); a push
   * without a valid one is refused with E_TICKET and counted (`unticketed`). @default no check
   */
  readonly tickets?: LeaseTickets;
}

/** A step the shard would not apply, and why. */
export interface StepRefusal {
  readonly step: number;
  readonly version: number;
  readonly reason: string;
}

export interface OpenOptions extends ParameterServerOptions {
  /** Checkpoints and write-ahead log; without it the shard keeps its state in memory only. */
  readonly durability?: DurabilityOptions;
}

/** One optimizer update of a shard, as reported to the coordinator in `stepApplied`. */
export interface AppliedReport {
  readonly step: number;
  readonly version: number;
  readonly microBatchIds: number[];
  /** Learning rate of the update. */
  readonly lr: number;
  /** ℓ2 norm of this shard's slice of the applied gradient, before clipping. */
  readonly gradNorm: number;
  /**
   * The loss each applied micro-batch's push carried, in `microBatchIds` order: the coordinator
   * completes a step from what the shards applied, even when the worker that pushed a micro-batch
   * died before reporting it.
   */
  readonly losses: number[];
}

/** An update made by applyUpdate that complete() has not yet finished. */
interface UnfinishedUpdate extends Omit<AppliedReport, 'gradNorm'> {
  /** Undefined until complete() measures it (when the update rule did not have to). */
  readonly gradNorm: number | undefined;
  /** Live, not replayed from the log. */
  readonly live: boolean;
}

interface HeldPull {
  readonly connection: Connection;
  readonly request: MessageOf<'pull'>;
}

/**
 * One parameter-server shard: its slice of the flat parameters and of the optimizer state, and on
 * shard 0 the batch-norm running statistics.
 *
 * Synchronous mode (CLUSTER.md steps 3–5): version t is the state after t steps. A pull of step t
 * is answered with the update rule's gradient point once the version is t (held until then). The
 * pushes of step t are folded into the sum in micro-batch id order — `sum += g_0`, then `g_1`, … —
 * with early arrivals buffered (at most M); when all M are in, `sum` is scaled by 1/M and
 * `UpdateRule.apply` takes one step, exactly as the reference trainer does.
 *
 * Asynchronous mode: the version counts applied micro-batches. A push computed on version v is
 * applied at once when `version − v ≤ staleness`, else answered `stale`; each (step, id) is applied
 * once.
 *
 * Durability (`ParameterServer.open` with `durability`): each update is appended to a write-ahead
 * log before the coordinator hears of it (sync without clipping: right after its pull replies are
 * written; otherwise before it is made), and the state is checkpointed every `every` steps; a shard opened with
 * `resume` restores the newest valid checkpoint and replays the log after it, so it comes back at
 * the version it had, bit for bit (libs/cluster/README.md, "Shard checkpoints").
 */
export class ParameterServer {
  readonly range: ShardRange;
  /** Length of the whole flat parameter vector. */
  readonly paramCount: number;
  readonly plan: PlanSizes;
  readonly params: Float32Array;
  readonly bnState: Float32Array | undefined;
  private readonly bnSpecs: readonly BnSpec[];
  private readonly rule: UpdateRule;
  private readonly point: Float32Array;
  private atPoint: Float32Array;
  /** The optimizer's gradient buffer: the update reads the step's mean gradient from here. */
  private readonly grad: Float32Array;
  /** Sync: the current step's sum of pushes, folded in id order. */
  private readonly sum: GradientSum;
  private readonly early: (Float32Array | undefined)[];
  private readonly moments: (WireMoments[] | undefined)[];
  private readonly losses: number[];
  private readonly received = new Set<number>();
  private nextId = 0;
  private versionNow = 0;
  private readonly held = new Map<number, HeldPull[]>();
  private readonly heldAsync: HeldPull[] = [];
  /** Every (step, micro-batch) applied; async de-duplicates pushes with it. */
  private ledger: AppliedLedger;
  /** Sync: what a pull of version − 1 returns. */
  private readonly previous: PreviousPoint | undefined;
  private recent: AppliedReport[] = [];
  private durability: ShardDurability | undefined;
  /** sha256 of the job, shard and range: checkpoints and logs of this shard carry it. */
  private readonly fingerprint: string;
  private readonly log: Logger;
  /**
   * Counters for status reports: `accepted` and `duplicate` count micro-batches (a pushRun counts
   * each of its run), the others messages; `poisoned` pushes (beyond maxGradNorm) are not in
   * `rejected`; `split` counts pushRuns answered `split`.
   */
  readonly counters = { accepted: 0, duplicate: 0, stale: 0, rejected: 0, poisoned: 0, split: 0, pulls: 0, unticketed: 0 };
  /** Updates refused because a (step, micro-batch) of them was already applied: must stay 0. */
  private doubleApplied = 0;
  private applyMs = 0;
  private readonly wire = new WireBytes();
  /** Sync: the update made and served whose log record and report wait for its replies to be written. */
  private served: { record: WalRecord; update: UnfinishedUpdate } | undefined;
  /** The step this shard refused (NonFiniteUpdate); it serves nothing after. */
  private refusal: StepRefusal | undefined;
  /** Async: how many gradients were applied at each staleness (index = current − v). */
  readonly stalenessHistogram: number[] = [];

  /**
   * A shard whose state starts from the job's initial parameters and lives in memory only; use
   * `ParameterServer.open` for checkpoints, the write-ahead log and resume.
   */
  constructor(private readonly options: ParameterServerOptions) {
    if ('durability' in options) throw new RangeError('durability needs ParameterServer.open(options), which restores before serving; the constructor ignores it');
    const { job, shard } = options;
    const model = modelOf(job);
    this.paramCount = model.paramCount;
    this.range = shardRange(model.paramCount, job.config.psShards, shard);
    this.plan = planSizes(job);
    this.log = options.log ?? silentLogger;
    this.bnSpecs = shard === 0 ? model.bnSpecs : [];
    this.bnState = shard === 0 && model.bnSpecs.length > 0 ? model.initBnState() : undefined;
    const initial = model.init(job.config.seed).subarray(this.range.offset, this.range.offset + this.range.length);
    model.dispose();
    const async = job.config.mode === 'async';
    const M = this.plan.microBatchesPerStep;
    // Async applies one update per micro-batch, so the schedule runs over M times as many updates.
    this.rule = new UpdateRule(job.config, this.range.length, async ? this.plan.totalSteps * M : this.plan.totalSteps, async ? this.plan.stepsPerEpoch * M : this.plan.stepsPerEpoch);
    // The optimizer's own buffers: its WebAssembly kernels then update them without copies.
    const buffers = this.rule.optimizer.buffers;
    this.params = buffers.params;
    this.params.set(initial);
    this.point = buffers.point;
    this.grad = buffers.grads;
    this.sum = new GradientSum(this.range.length);
    this.early = new Array<Float32Array | undefined>(M).fill(undefined);
    this.moments = new Array<WireMoments[] | undefined>(M).fill(undefined);
    this.losses = new Array<number>(M).fill(Number.NaN);
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    this.ledger = new AppliedLedger(this.plan.totalSteps, M);
    this.fingerprint = jobFingerprint(job, shard, this.range);
    this.previous = async ? undefined : new PreviousPoint(this.range.length, this.point !== this.params, this.bnState?.length);
  }

  /**
   * Builds a shard and, with `durability`, makes it durable before it serves: on `resume` it
   * restores the newest valid checkpoint and replays the write-ahead log after it (`version` is
   * then the restored version); otherwise it clears the directory of an earlier run.
   */
  static async open(options: OpenOptions): Promise<ParameterServer> {
    const { durability, ...rest } = options;
    const ps = new ParameterServer(rest);
    if (durability) await ps.openDurability(durability);
    return ps;
  }

  /**
   * Shard `shard`'s checkpoint directory: `<root>/shard-<shard>`, root = `root` when given, else
   * the job's checkpointDir, else `<out>/checkpoints`.
   */
  static checkpointDirOf(job: JobDescription, shard: number, root?: string): string {
    return join(root ?? job.config.checkpointDir ?? join(job.config.out, 'checkpoints'), `shard-${shard}`);
  }

  /** The job description a shard saved in its checkpoint directory on its first start (to resume before registering). */
  static savedJob(dir: string): Promise<JobDescription> {
    return readSavedJob(dir);
  }

  get job(): JobDescription {
    return this.options.job;
  }

  /** Whether `job` is the job this shard runs (the same fingerprint), e.g. a restarted coordinator's. */
  runs(job: JobDescription): boolean {
    return jobFingerprint(job, this.shard, this.range) === this.fingerprint;
  }

  private async openDurability(options: DurabilityOptions): Promise<void> {
    const started = performance.now();
    const async = this.options.job.config.mode === 'async';
    const fields = { shard: this.shard };
    const store = new ShardDurability(options, this.fingerprint, async ? this.plan.microBatchesPerStep : 1, this.log, fields);
    await store.prepare();
    if (!options.resume) await writeSavedJob(options.dir, this.options.job);
    if (options.resume) {
      const checkpoint = await store.loadCheckpoint();
      if (checkpoint) this.restore(checkpoint);
      const from = this.versionNow;
      await store.replay(from, (record) => {
        const update = this.applyUpdate(record, false);
        if (update) this.complete(update);
      });
      this.log({
        level: 'warn',
        event: 'shard-restored',
        ...fields,
        version: this.versionNow,
        step: this.syncStep(),
        checkpointStep: checkpoint?.step ?? null,
        replayed: this.versionNow - from,
        appliedMicroBatches: this.ledger.count,
        ms: Math.round(performance.now() - started),
        message: `shard ${this.shard} restored at version ${this.versionNow}: ${checkpoint ? `checkpoint of step ${checkpoint.step}` : 'no checkpoint (initial state)'} + ${this.versionNow - from} logged updates`,
      });
    }
    await store.startLog(this.versionNow);
    this.durability = store;
  }

  private restore(snapshot: ShardSnapshot): void {
    if (snapshot.params.length !== this.range.length) {
      throw new RangeError(`checkpoint holds ${snapshot.params.length} parameters but shard ${this.shard} owns ${this.range.length}; it belongs to another sharding`);
    }
    this.rule.optimizer.load(snapshot.optimizer);
    this.params.set(snapshot.params);
    if (this.bnState && snapshot.bnState) this.bnState.set(snapshot.bnState);
    this.ledger = new AppliedLedger(this.plan.totalSteps, this.plan.microBatchesPerStep, snapshot.ledger);
    if (snapshot.previous) this.previous?.save(snapshot.previous);
    this.recent = [...snapshot.recentApplied];
    this.stalenessHistogram.splice(0, this.stalenessHistogram.length, ...snapshot.stalenessHistogram);
    this.versionNow = snapshot.version;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
  }

  /** A copy of the state for a checkpoint, taken between two updates. */
  private snapshot(): ShardSnapshot {
    return {
      step: this.syncStep(),
      version: this.versionNow,
      params: this.params.slice(),
      optimizer: this.rule.optimizer.state(),
      bnState: this.bnState?.slice(),
      ledger: this.ledger.bytes(),
      previous: this.previous?.snapshot(),
      recentApplied: [...this.recent],
      stalenessHistogram: [...this.stalenessHistogram],
    };
  }

  /** A copy of the optimizer's state (moments, velocity, step count) over this shard's slice. */
  optimizerState(): OptimizerState {
    this.settle();
    return this.rule.optimizer.state();
  }

  /** The last ≤ 8 updates (sync: one per step), oldest first: re-sent to a restarted coordinator. */
  recentApplied(): AppliedReport[] {
    this.settle();
    return [...this.recent];
  }

  /** Resolves once no checkpoint is being written (never while the stall fault holds one). */
  async checkpointsSettled(): Promise<void> {
    this.settle();
    await this.durability?.settled();
  }

  /**
   * At the end of the job (the coordinator's shutdown): a durable checkpoint of the final state
   * replaces the write-ahead log; then `close()`.
   */
  async finish(): Promise<void> {
    this.settle();
    await this.durability?.finish(this.snapshot());
  }

  /** Closes the write-ahead log and gives up a checkpoint being written; the shard must not be used after. */
  async close(): Promise<void> {
    this.settle();
    const durability = this.durability;
    this.durability = undefined;
    await durability?.close();
  }

  get shard(): number {
    return this.options.shard;
  }

  get version(): number {
    return this.versionNow;
  }

  /** What the protocol must check on every connection to this shard before a message arrives. */
  validateOptions(paramCount: number): ValidateOptions {
    return {
      paramCount,
      slice: this.range,
      ...(this.bnSpecs.length > 0 ? { bnStatsLength: bnStatsLength(this.bnSpecs), bnStateLength: this.bnState!.length } : {}),
    };
  }

  /** Serves `connection`: pulls, pushes and status requests. */
  attach(connection: Connection): void {
    this.wire.add(connection);
    connection.on('message', (msg) => this.handle(connection, msg));
    connection.on('close', () => {
      this.wire.closed(connection);
      this.dropHeld(connection);
    });
  }

  /** Handles one validated message; refusals get an error reply and a log line. */
  handle(connection: Connection, msg: Message): void {
    // Nothing is handled before the served update is logged: a push could otherwise change the gradient its record holds.
    this.settle();
    try {
      if (this.refusal && (msg.type === 'pull' || msg.type === 'push' || msg.type === 'pushRun')) throw this.refusedError(msg.seq);
      if (msg.type === 'pull') this.pull(connection, msg);
      else if (msg.type === 'push') this.push(connection, msg);
      else if (msg.type === 'pushRun') this.pushRun(connection, msg);
      else if (msg.type === 'status') void connection.reply(msg, { type: 'statusReport', role: 'ps', step: this.syncStep(), version: this.versionNow, detail: this.status() });
      else if (msg.type !== 'shutdown' && msg.type !== 'error') throw new ProtocolError('E_ROLE', `a parameter server does not handle ${msg.type}; send pull, push or status`, { ref: msg.seq });
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_INTERNAL', String(error), { cause: error });
      // A pull of a step already applied is a lease overtaken by a backup or a re-lease: routine.
      this.log({ level: refusal.code === 'E_STALE' ? 'info' : 'warn', event: 'ps-refused', shard: this.shard, type: msg.type, code: refusal.code, message: refusal.message });
      void connection.replyError(msg, refusal);
    }
  }

  status(): { [key: string]: number | string | number[] } {
    this.settle();
    return {
      shard: this.shard,
      offset: this.range.offset,
      length: this.range.length,
      mode: this.options.job.config.mode,
      version: this.versionNow,
      ...this.counters,
      appliedMicroBatches: this.ledger.count,
      doubleApplied: this.doubleApplied,
      stalenessHistogram: this.stalenessHistogram,
      // Wall time of live updates (log record, previous point, optimizer, batch-norm statistics): the server's part of a step.
      applyMs: Math.round(this.applyMs * 1000) / 1000,
      ...this.wire.totals(),
    };
  }

  private syncStep(): number {
    return this.options.job.config.mode === 'async' ? Math.floor(this.versionNow / this.plan.microBatchesPerStep) : this.versionNow;
  }

  private pull(connection: Connection, msg: MessageOf<'pull'>): void {
    this.counters.pulls++;
    if (msg.step !== undefined) {
      if (msg.step > this.plan.totalSteps) {
        throw new ProtocolError('E_RANGE', `pull.step ${msg.step} is past the last step ${this.plan.totalSteps} of this job`, { ref: msg.seq });
      }
      if (this.options.job.config.mode === 'async') {
        throw new ProtocolError('E_MALFORMED', 'pull.step is for synchronous mode; this job is async: pull with minVersion', { ref: msg.seq });
      }
      if (msg.step < this.versionNow) {
        const previous = this.previous?.at(msg.step);
        if (previous) {
          this.answer(connection, msg, previous);
          return;
        }
        throw new ProtocolError('E_STALE', `pull.step ${msg.step} was already applied; shard ${this.shard} is at version ${this.versionNow} and serves steps ${this.versionNow - 1} and ${this.versionNow} only`, { ref: msg.seq });
      }
      if (msg.step > this.versionNow) {
        this.hold(connection, msg, msg.step, SYNC_PULL_AHEAD);
        const list = this.held.get(msg.step) ?? [];
        list.push({ connection, request: msg });
        this.held.set(msg.step, list);
        return;
      }
      this.answer(connection, msg);
      return;
    }
    if (msg.minVersion! > this.versionNow) {
      this.hold(connection, msg, msg.minVersion!, this.plan.microBatchesPerStep);
      this.heldAsync.push({ connection, request: msg });
      return;
    }
    this.answer(connection, msg);
  }

  /**
   * Refuses to hold a pull for a version further than `ahead` past the current one (no worker
   * needs one: it pulls the step after the one it pushed), or beyond MAX_HELD_PULLS pulls already
   * waiting on the connection: a peer must not park requests without bound.
   */
  private hold(connection: Connection, msg: MessageOf<'pull'>, wanted: number, ahead: number): void {
    if (wanted > this.versionNow + ahead) {
      throw new ProtocolError('E_RANGE', `pull of version ${wanted} is more than ${ahead} past shard ${this.shard}'s version ${this.versionNow}; pull the step after the one you pushed`, { ref: msg.seq });
    }
    let waiting = this.heldAsync.filter((h) => h.connection === connection).length;
    for (const list of this.held.values()) waiting += list.filter((h) => h.connection === connection).length;
    if (waiting >= MAX_HELD_PULLS) {
      throw new ProtocolError('E_LIMIT', `${waiting} pulls of this connection already wait for new versions of shard ${this.shard} (MAX_HELD_PULLS ${MAX_HELD_PULLS})`, { ref: msg.seq });
    }
  }

  private current(): PointView {
    return { version: this.versionNow, params: this.params, point: this.atPoint, bnState: this.bnState };
  }

  private answer(connection: Connection, msg: MessageOf<'pull'>, view: PointView = this.current()): Promise<boolean> {
    const source = msg.raw ? view.params : view.point;
    const offset = msg.offset ?? this.range.offset;
    const length = msg.length ?? this.range.length;
    const values = source.subarray(offset - this.range.offset, offset - this.range.offset + length);
    return connection.reply(msg, {
      type: 'params',
      version: view.version,
      step: msg.step ?? this.syncStep(),
      offset,
      values,
      ...(view.bnState ? { bnState: view.bnState } : {}),
    });
  }

  /**
   * Refuses (E_TICKET, counted) a push or run without the coordinator's ticket for each of its
   * micro-batches under its lease, before it can change anything.
   */
  private requireTickets(msg: MessageOf<'push'> | MessageOf<'pushRun'>): void {
    const tickets = this.options.tickets;
    if (!tickets) return;
    const given = msg.type === 'push' ? (msg.ticket === undefined ? [] : [msg.ticket]) : (msg.tickets ?? []);
    const count = msg.type === 'push' ? 1 : msg.count;
    const valid = given.length === count && given.every((ticket, j) => tickets.verify(msg.step, msg.microBatchId + j, msg.leaseId, ticket));
    if (valid) return;
    this.counters.unticketed++;
    const what = count === 1 ? `micro-batch ${msg.microBatchId}` : `micro-batches ${msg.microBatchId}..${msg.microBatchId + count - 1}`;
    throw new ProtocolError('E_TICKET', `${msg.type} of step ${msg.step} ${what} carries ${given.length === 0 ? 'no lease ticket' : `no valid ticket of lease ${msg.leaseId ?? '(none)'}`}; refused`, { ref: msg.seq });
  }

  private push(connection: Connection, msg: MessageOf<'push'>): void {
    this.requireTickets(msg);
    const M = this.plan.microBatchesPerStep;
    if (msg.microBatchId >= M) {
      throw new ProtocolError('E_RANGE', `push.microBatchId ${msg.microBatchId} is not below ${M} micro-batches per step`, { ref: msg.seq });
    }
    if (msg.step >= this.plan.totalSteps) {
      throw new ProtocolError('E_RANGE', `push.step ${msg.step} is not below the job's ${this.plan.totalSteps} steps`, { ref: msg.seq });
    }
    this.requireBnStats(msg);
    const bound = this.options.job.config.maxGradNorm;
    if (bound !== undefined) {
      const norm = globalNorm(msg.grads);
      if (norm > bound) {
        const reason = `poisoned: the gradient slice's ℓ2 norm ${norm} exceeds maxGradNorm ${bound}`;
        this.log({ level: 'warn', event: 'push-poisoned', shard: this.shard, step: msg.step, microBatchId: msg.microBatchId, norm, maxGradNorm: bound });
        this.ack(connection, msg, 'rejected', reason, 'poisoned');
        return;
      }
    }
    if (this.options.job.config.mode === 'async') this.pushAsync(connection, msg);
    else this.pushSync(connection, msg);
  }

  private requireBnStats(msg: MessageOf<'push'> | MessageOf<'pushRun'>): void {
    if ((msg.bnStats !== undefined) === this.bnSpecs.length > 0) return;
    throw new ProtocolError(
      'E_MALFORMED',
      this.bnSpecs.length > 0
        ? `${msg.type}.bnStats is missing; shard 0 of a batch-norm model needs each micro-batch's moments`
        : `${msg.type}.bnStats was sent to shard ${this.shard}, which keeps no batch-norm statistics; send them to shard 0 only`,
      { ref: msg.seq },
    );
  }

  /**
   * Sync: a run of micro-batches summed by the worker (messages.ts, pushRun). Its sum was folded
   * from zero in id order, so adding it to an empty sum gives the bits folding each would: the
   * shard takes it only at the start of a step with none of the run received, and answers `split`
   * otherwise (the worker then pushes the micro-batches one by one). With maxGradNorm each
   * micro-batch's norm must be judged alone, so a run is always split.
   */
  private pushRun(connection: Connection, msg: MessageOf<'pushRun'>): void {
    this.requireTickets(msg);
    const M = this.plan.microBatchesPerStep;
    const first = msg.microBatchId;
    if (this.options.job.config.mode === 'async') {
      throw new ProtocolError('E_MALFORMED', 'pushRun is for synchronous mode; this job is async: push each micro-batch', { ref: msg.seq });
    }
    if (first + msg.count > M) {
      throw new ProtocolError('E_RANGE', `pushRun covers micro-batches ${first}..${first + msg.count - 1}, past the ${M} micro-batches per step`, { ref: msg.seq });
    }
    if (msg.step >= this.plan.totalSteps) {
      throw new ProtocolError('E_RANGE', `pushRun.step ${msg.step} is not below the job's ${this.plan.totalSteps} steps`, { ref: msg.seq });
    }
    this.requireBnStats(msg);
    let received = 0;
    for (let id = first; id < first + msg.count; id++) if (this.received.has(id)) received++;
    if (this.answeredForStep(connection, msg, received === msg.count, `micro-batches ${first}..${first + msg.count - 1} were`)) return;
    const why =
      this.options.job.config.maxGradNorm !== undefined
        ? 'the job sets maxGradNorm, which judges each micro-batch alone'
        : first !== 0 || this.nextId !== 0 || received > 0
          ? `shard ${this.shard} has folded ${this.nextId} and holds ${this.received.size} micro-batches of step ${msg.step}; a run is added only to an empty sum at micro-batch 0`
          : undefined;
    if (why) {
      this.ack(connection, msg, 'split', `${why}: push micro-batches ${first}..${first + msg.count - 1} one by one`);
      return;
    }
    const blockLength = msg.bnStats ? msg.bnStats.length / msg.count : 0;
    for (let j = 0; j < msg.count; j++) {
      this.received.add(first + j);
      this.moments[first + j] = msg.bnStats ? unpackMoments(this.bnSpecs, msg.bnStats.subarray(j * blockLength, (j + 1) * blockLength)) : undefined;
      this.losses[first + j] = msg.losses[j];
    }
    // The sum is empty (+0 everywhere), so adding the run's sum (folded from +0 as the shard would)
    // reproduces it exactly. A run that is the whole step becomes the mean in one pass.
    const whole = msg.count === M;
    if (whole) scaleFromZero(this.grad, msg.grads, 1 / M);
    else this.sum.add(msg.grads);
    this.nextId = msg.count;
    this.foldEarly();
    this.ack(connection, msg, 'accepted');
    if (this.nextId === M) this.applyStep(whole);
  }

  /** Folds the buffered micro-batches that now come next in id order. */
  private foldEarly(): void {
    while (this.nextId < this.early.length && this.early[this.nextId]) {
      this.sum.add(this.early[this.nextId]!);
      this.early[this.nextId] = undefined;
      this.nextId++;
    }
  }

  private ack(
    connection: Connection,
    msg: MessageOf<'push'> | MessageOf<'pushRun'>,
    status: 'accepted' | 'duplicate' | 'stale' | 'rejected' | 'split',
    reason?: string,
    counter: keyof typeof this.counters = status,
  ): void {
    // accepted and duplicate count micro-batches, however they travelled.
    this.counters[counter] += msg.type === 'pushRun' && (status === 'accepted' || status === 'duplicate') ? msg.count : 1;
    void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status, ...(reason ? { reason } : {}) });
  }

  /**
   * Sync: acknowledges a push or run whose step is not the current one, or whose micro-batches
   * were all received already (`received`): `duplicate` for a step applied or a repeat, `rejected`
   * for a step ahead. Returns whether it did (the message is then handled).
   */
  private answeredForStep(connection: Connection, msg: MessageOf<'push'> | MessageOf<'pushRun'>, received: boolean, what: string): boolean {
    if (msg.step < this.versionNow || (msg.step === this.versionNow && received)) {
      this.ack(connection, msg, 'duplicate', `step ${msg.step} ${what} already received`);
      return true;
    }
    if (msg.step > this.versionNow) {
      this.ack(connection, msg, 'rejected', `step ${msg.step} is ahead of shard ${this.shard}'s current step ${this.versionNow}; pull step ${msg.step} first`);
      return true;
    }
    return false;
  }

  private pushSync(connection: Connection, msg: MessageOf<'push'>): void {
    const id = msg.microBatchId;
    if (this.answeredForStep(connection, msg, this.received.has(id), `micro-batch ${id} was`)) return;
    this.received.add(id);
    this.moments[id] = msg.bnStats ? unpackMoments(this.bnSpecs, msg.bnStats) : undefined;
    this.losses[id] = msg.loss;
    if (id === this.nextId) {
      this.sum.add(msg.grads);
      this.nextId++;
      this.foldEarly();
    } else {
      // A view of the received frame: it stays valid as long as it is referenced.
      this.early[id] = msg.grads;
    }
    this.ack(connection, msg, 'accepted');
    if (this.nextId === this.early.length) this.applyStep();
  }

  /** Sync: all M micro-batches of the step are folded (`meanDone`: and their mean is in `grad`). */
  private applyStep(meanDone = false): void {
    const M = this.early.length;
    const step = this.versionNow;
    // (0 + sum)·(1/M) is sum·(1/M): a sum folded from +0 is never −0. The next step sums from zero.
    if (!meanDone) {
      scaleFromZero(this.grad, this.sum.sum, 1 / M);
      this.sum.reset();
    }
    const record: WalRecord = {
      version: step,
      step,
      microBatchIds: Array.from({ length: M }, (_, i) => i),
      losses: this.losses.slice(),
      grad: this.grad,
      ...(this.bnState ? { moments: combineMicroBatchMoments(this.moments as WireMoments[][]) } : {}),
    };
    // Every worker waits on the pulls held for the new version, so they are answered as soon as
    // the update is made. Node writes what a socket takes at once and the rest when the event loop
    // polls again, so the log record, the gradient norm and stepApplied (settle) wait until the
    // replies are written; any message arriving meanwhile settles first. A crash before the record
    // is logged loses an update the coordinator was never told of: it leases the step again, and
    // the recomputed gradients give the same bits. An update rule that clips changes the gradient
    // in place, so then the record is logged first.
    const logFirst = this.rule.changesGradient;
    let update: UnfinishedUpdate | undefined;
    try {
      update = this.applyUpdate(record, logFirst ? 'first' : 'later');
    } catch (error) {
      if (!(error instanceof NonFiniteUpdate)) throw error;
      this.refuseStep(step, error.message);
      return;
    } finally {
      this.moments.fill(undefined);
      this.received.clear();
      this.nextId = 0;
    }
    if (!update) return;
    const waiting = this.held.get(this.versionNow) ?? [];
    this.held.delete(this.versionNow);
    const written = waiting.filter((h) => h.connection.isOpen).map((h) => this.answer(h.connection, h.request));
    if (logFirst) {
      this.applied(this.complete(update));
      return;
    }
    const served = { record, update };
    this.served = served;
    if (written.length === 0) {
      this.settle();
      return;
    }
    const deadline = setTimeout(() => this.settle(served), SETTLE_WAIT_MS);
    deadline.unref();
    void Promise.all(written).finally(() => {
      clearTimeout(deadline);
      this.settle(served);
    });
  }

  /**
   * Logs the served update, completes it and reports it; once, and only while `which` (when given)
   * is still the update waiting: a late call for an update settled meanwhile does nothing.
   */
  private settle(which?: { record: WalRecord; update: UnfinishedUpdate }): void {
    const served = this.served;
    if (!served || (which !== undefined && which !== served)) return;
    this.served = undefined;
    const started = performance.now();
    try {
      this.durability?.append(served.record);
      this.applyMs += performance.now() - started;
    } catch (error) {
      const failure = new Error(`shard ${this.shard}: the write-ahead log append of version ${served.record.version} failed after the update was served (${String(error)}); stop this shard and restart it with --resume`, { cause: error });
      this.log({ level: 'error', event: 'wal-append-failed', shard: this.shard, version: served.record.version, message: failure.message });
      // By default the process dies as a kill would kill it.
      (this.options.onFatal ?? ((e) => setImmediate(() => { throw e; })))(failure);
      return;
    }
    this.applied(this.complete(served.update));
  }

  /**
   * One optimizer update, live or replayed from the write-ahead log: the same code either way, so
   * a restored shard holds the same bits. `log`: 'first' appends the record before the update,
   * 'later' leaves that to the caller (applyStep), false replays. complete() finishes it.
   * @returns the update to finish, or undefined when the ledger refused a pair already applied
   */
  private applyUpdate(record: WalRecord, log: 'first' | 'later' | false): UnfinishedUpdate | undefined {
    const started = performance.now();
    const { step, microBatchIds } = record;
    const again = microBatchIds.filter((id) => this.ledger.has(step, id));
    if (again.length > 0) {
      this.doubleApplied++;
      this.log({ level: 'error', event: 'double-apply-refused', shard: this.shard, step, microBatchIds: again, message: `step ${step} micro-batches ${again.join(', ')} were already applied; the update is refused` });
      return undefined;
    }
    // The update may clip in place, so the gradient is copied into the optimizer's buffer first
    // (sync already put the mean there).
    if (record.grad !== this.grad) this.grad.set(record.grad);
    // Finite pushes can sum past float32's range; such a mean is refused before anything changes.
    const norm = globalNorm(this.grad);
    if (!Number.isFinite(norm)) throw new NonFiniteUpdate(`the mean gradient of step ${step} is not finite (its ℓ2 norm is ${norm}: the pushes sum past float32's range, or one holds a value that large)`);
    if (log === 'first') this.durability?.append(record);
    this.previous?.save(this.current());
    const { lr } = this.rule.update(this.params, this.grad);
    const bad = firstNonFinite(this.params);
    if (bad >= 0) throw new NonFiniteUpdate(`step ${step}'s update made parameter ${this.range.offset + bad} ${this.params[bad]} (the optimizer diverged)`);
    if (this.bnState && record.moments) updateRunningStats(this.bnState, this.bnSpecs, record.moments, { momentum: this.options.job.config.bnMomentum });
    this.ledger.add(step, microBatchIds);
    if (record.pushedVersion !== undefined) {
      const lag = record.version - record.pushedVersion;
      this.stalenessHistogram[lag] = (this.stalenessHistogram[lag] ?? 0) + 1;
      for (let i = 0; i < this.stalenessHistogram.length; i++) this.stalenessHistogram[i] ??= 0;
    }
    this.versionNow = record.version + 1;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    if (log !== false) this.applyMs += performance.now() - started;
    return { step, version: this.versionNow, microBatchIds: [...microBatchIds], lr, gradNorm: norm, losses: [...record.losses], live: log !== false };
  }

  /** The rest of an update: the gradient's norm (the optimizer left it as it was), the report. */
  private complete(update: UnfinishedUpdate): AppliedReport {
    const started = performance.now();
    const { live, ...rest } = update;
    const report: AppliedReport = { ...rest, gradNorm: rest.gradNorm ?? globalNorm(this.grad) };
    if (live) this.applyMs += performance.now() - started;
    this.recent.push(report);
    if (this.recent.length > RECENT_APPLIED) this.recent.shift();
    return report;
  }

  /** After a live update: checkpoint when due, then tell the coordinator. */
  private applied(report: AppliedReport): void {
    if (this.durability?.due(this.versionNow)) this.durability.checkpoint(this.snapshot());
    this.options.onApplied?.(report);
  }

  private pushAsync(connection: Connection, msg: MessageOf<'push'>): void {
    if (this.ledger.has(msg.step, msg.microBatchId)) {
      this.ack(connection, msg, 'duplicate', `step ${msg.step} micro-batch ${msg.microBatchId} was already applied`);
      return;
    }
    if (msg.version > this.versionNow) {
      this.ack(connection, msg, 'rejected', `version ${msg.version} is ahead of shard ${this.shard}'s version ${this.versionNow}`);
      return;
    }
    const lag = this.versionNow - msg.version;
    const bound = this.options.job.config.staleness;
    if (lag > bound) {
      this.ack(connection, msg, 'stale', `computed on version ${msg.version}, ${lag} updates behind version ${this.versionNow}; the bound is ${bound}`);
      return;
    }
    const record: WalRecord = {
      version: this.versionNow,
      step: msg.step,
      microBatchIds: [msg.microBatchId],
      losses: [msg.loss],
      pushedVersion: msg.version,
      grad: msg.grads,
      ...(this.bnState && msg.bnStats ? { moments: combineMicroBatchMoments([unpackMoments(this.bnSpecs, msg.bnStats)]) } : {}),
    };
    let update: UnfinishedUpdate | undefined;
    try {
      update = this.applyUpdate(record, 'first');
    } catch (error) {
      if (!(error instanceof NonFiniteUpdate)) throw error;
      this.refuseStep(msg.step, error.message);
      throw new ProtocolError('E_NON_FINITE', `shard ${this.shard} refused this push: ${error.message}`, { ref: msg.seq });
    }
    if (!update) {
      this.ack(connection, msg, 'duplicate', `step ${msg.step} micro-batch ${msg.microBatchId} was already applied`);
      return;
    }
    const report = this.complete(update);
    this.ack(connection, msg, 'accepted');
    this.applied(report);
    const ready = this.heldAsync.filter((h) => h.request.minVersion! <= this.versionNow);
    for (const h of ready) {
      this.heldAsync.splice(this.heldAsync.indexOf(h), 1);
      if (h.connection.isOpen) this.answer(h.connection, h.request);
    }
  }

  /**
   * The shard will not apply step `step` (NonFiniteUpdate): nothing of it was served or logged,
   * but its parameters may have changed, so it serves nothing more. The held pulls are answered
   * with the reason and the coordinator is told; it fails the job.
   */
  private refuseStep(step: number, reason: string): void {
    this.refusal = { step, version: this.versionNow, reason };
    this.log({ level: 'error', event: 'step-refused', shard: this.shard, step, message: `shard ${this.shard} refused step ${step}: ${reason}` });
    const held = [...[...this.held.values()].flat(), ...this.heldAsync.splice(0)];
    this.held.clear();
    for (const h of held) if (h.connection.isOpen) void h.connection.replyError(h.request, this.refusedError(h.request.seq));
    this.options.onRefused?.(this.refusal);
  }

  private refusedError(ref: number): ProtocolError {
    const { step, reason } = this.refusal!;
    return new ProtocolError('E_NON_FINITE', `shard ${this.shard} refused step ${step} and serves no more: ${reason}`, { ref });
  }

  private dropHeld(connection: Connection): void {
    for (const [step, list] of this.held) this.held.set(step, list.filter((h) => h.connection !== connection));
    for (let i = this.heldAsync.length - 1; i >= 0; i--) if (this.heldAsync[i].connection === connection) this.heldAsync.splice(i, 1);
  }
}
