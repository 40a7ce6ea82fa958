import { combineMicroBatchMoments, updateRunningStats, type BnSpec } from '@dptrain/model/stats';
import { accumulate, scale } from '@dptrain/optim';
import { ProtocolError, silentLogger, type Connection, type Logger, type Message, type MessageOf, type ValidateOptions } from '@dptrain/protocol';
import { UpdateRule } from '@dptrain/training';
import { bnStatsLength, unpackMoments, type WireMoments } from '../bn-wire.js';
import { planSizes, type JobDescription, type PlanSizes } from '../job.js';
import { modelOf } from '../model-of.js';
import { shardRange, type ShardRange } from '../shards.js';

export interface ParameterServerOptions {
  readonly job: JobDescription;
  /** This shard's index, 0..psShards−1. */
  readonly shard: number;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Called after each optimizer update (sync: a whole step; async: one micro-batch). */
  readonly onApplied?: (applied: AppliedReport) => void;
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
 * pushes of step t are folded into the sum in micro-batch id order — `acc += g_0`, then `g_1`, … —
 * with early arrivals buffered (at most M); when all M are in, `acc` is scaled by 1/M and
 * `UpdateRule.apply` takes one step, exactly as the reference trainer does.
 *
 * Asynchronous mode: the version counts applied micro-batches. A push computed on version v is
 * applied at once when `version − v ≤ staleness`, else answered `stale`; each (step, id) is applied
 * once.
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
  private readonly acc: Float32Array;
  private readonly early: (Float32Array | undefined)[];
  private readonly moments: (WireMoments[] | undefined)[];
  private readonly losses: number[];
  private readonly received = new Set<number>();
  private nextId = 0;
  private versionNow = 0;
  private readonly held = new Map<number, HeldPull[]>();
  private readonly heldAsync: HeldPull[] = [];
  private readonly appliedAsync = new Set<string>();
  private readonly log: Logger;
  /** Counters for status reports. */
  readonly counters = { accepted: 0, duplicate: 0, stale: 0, rejected: 0, pulls: 0 };
  /** Async: how many gradients were applied at each staleness (index = current − v). */
  readonly stalenessHistogram: number[] = [];

  constructor(private readonly options: ParameterServerOptions) {
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
    this.acc = buffers.grads;
    this.early = new Array<Float32Array | undefined>(M).fill(undefined);
    this.moments = new Array<WireMoments[] | undefined>(M).fill(undefined);
    this.losses = new Array<number>(M).fill(Number.NaN);
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
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
    connection.on('message', (msg) => this.handle(connection, msg));
    connection.on('close', () => this.dropHeld(connection));
  }

  /** Handles one validated message; refusals get an error reply and a log line. */
  handle(connection: Connection, msg: Message): void {
    try {
      if (msg.type === 'pull') this.pull(connection, msg);
      else if (msg.type === 'push') this.push(connection, msg);
      else if (msg.type === 'status') void connection.reply(msg, { type: 'statusReport', role: 'ps', step: this.syncStep(), version: this.versionNow, detail: this.status() });
      else if (msg.type !== 'shutdown' && msg.type !== 'error') throw new ProtocolError('E_ROLE', `a parameter server does not handle ${msg.type}; send pull, push or status`, { ref: msg.seq });
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_INTERNAL', String(error), { cause: error });
      this.log({ level: 'warn', event: 'ps-refused', shard: this.shard, type: msg.type, code: refusal.code, message: refusal.message });
      void connection.replyError(msg, refusal);
    }
  }

  status(): { [key: string]: number | string | number[] } {
    return { shard: this.shard, offset: this.range.offset, length: this.range.length, mode: this.options.job.config.mode, ...this.counters, stalenessHistogram: this.stalenessHistogram };
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
        throw new ProtocolError('E_STALE', `pull.step ${msg.step} was already applied; shard ${this.shard} is at version ${this.versionNow}`, { ref: msg.seq });
      }
      if (msg.step > this.versionNow) {
        const list = this.held.get(msg.step) ?? [];
        list.push({ connection, request: msg });
        this.held.set(msg.step, list);
        return;
      }
      this.answer(connection, msg);
      return;
    }
    if (msg.minVersion! > this.versionNow) {
      this.heldAsync.push({ connection, request: msg });
      return;
    }
    this.answer(connection, msg);
  }

  private answer(connection: Connection, msg: MessageOf<'pull'>): void {
    const source = msg.raw ? this.params : this.atPoint;
    const offset = msg.offset ?? this.range.offset;
    const length = msg.length ?? this.range.length;
    const values = source.subarray(offset - this.range.offset, offset - this.range.offset + length);
    void connection.reply(msg, {
      type: 'params',
      version: this.versionNow,
      step: msg.step ?? this.syncStep(),
      offset,
      values,
      ...(this.bnState ? { bnState: this.bnState } : {}),
    });
  }

  private push(connection: Connection, msg: MessageOf<'push'>): void {
    const M = this.plan.microBatchesPerStep;
    if (msg.microBatchId >= M) {
      throw new ProtocolError('E_RANGE', `push.microBatchId ${msg.microBatchId} is not below ${M} micro-batches per step`, { ref: msg.seq });
    }
    if (msg.step >= this.plan.totalSteps) {
      throw new ProtocolError('E_RANGE', `push.step ${msg.step} is not below the job's ${this.plan.totalSteps} steps`, { ref: msg.seq });
    }
    if ((msg.bnStats !== undefined) !== this.bnSpecs.length > 0) {
      throw new ProtocolError(
        'E_MALFORMED',
        this.bnSpecs.length > 0 ? `push.bnStats is missing; shard 0 of a batch-norm model needs each micro-batch's moments` : `push.bnStats was sent to shard ${this.shard}, which keeps no batch-norm statistics; send them to shard 0 only`,
        { ref: msg.seq },
      );
    }
    if (this.options.job.config.mode === 'async') this.pushAsync(connection, msg);
    else this.pushSync(connection, msg);
  }

  private ack(connection: Connection, msg: MessageOf<'push'>, status: 'accepted' | 'duplicate' | 'stale' | 'rejected', reason?: string): void {
    this.counters[status]++;
    void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status, ...(reason ? { reason } : {}) });
  }

  private pushSync(connection: Connection, msg: MessageOf<'push'>): void {
    const id = msg.microBatchId;
    if (msg.step < this.versionNow || (msg.step === this.versionNow && this.received.has(id))) {
      this.ack(connection, msg, 'duplicate', `step ${msg.step} micro-batch ${id} was already received`);
      return;
    }
    if (msg.step > this.versionNow) {
      this.ack(connection, msg, 'rejected', `step ${msg.step} is ahead of shard ${this.shard}'s current step ${this.versionNow}; pull step ${msg.step} first`);
      return;
    }
    this.received.add(id);
    this.moments[id] = msg.bnStats ? unpackMoments(this.bnSpecs, msg.bnStats) : undefined;
    this.losses[id] = msg.loss;
    if (id === this.nextId) {
      accumulate(this.acc, msg.grads);
      this.nextId++;
      while (this.nextId < this.early.length && this.early[this.nextId]) {
        accumulate(this.acc, this.early[this.nextId]!);
        this.early[this.nextId] = undefined;
        this.nextId++;
      }
    } else {
      // A view of the received frame: it stays valid as long as it is referenced.
      this.early[id] = msg.grads;
    }
    this.ack(connection, msg, 'accepted');
    if (this.nextId === this.early.length) this.applyStep();
  }

  private applyStep(): void {
    const M = this.early.length;
    const step = this.versionNow;
    scale(this.acc, 1 / M);
    const { lr, gradNorm } = this.rule.apply(this.params, this.acc);
    if (this.bnState) {
      updateRunningStats(this.bnState, this.bnSpecs, combineMicroBatchMoments(this.moments as WireMoments[][]), { momentum: this.options.job.config.bnMomentum });
    }
    this.acc.fill(0);
    this.moments.fill(undefined);
    this.received.clear();
    this.nextId = 0;
    this.versionNow = step + 1;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    const ids = Array.from({ length: M }, (_, i) => i);
    this.options.onApplied?.({ step, version: this.versionNow, microBatchIds: ids, lr, gradNorm, losses: this.losses.slice() });
    const waiting = this.held.get(this.versionNow);
    this.held.delete(this.versionNow);
    for (const { connection, request } of waiting ?? []) if (connection.isOpen) this.answer(connection, request);
  }

  private pushAsync(connection: Connection, msg: MessageOf<'push'>): void {
    const key = `${msg.step}:${msg.microBatchId}`;
    if (this.appliedAsync.has(key)) {
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
    this.appliedAsync.add(key);
    this.stalenessHistogram[lag] = (this.stalenessHistogram[lag] ?? 0) + 1;
    for (let i = 0; i < this.stalenessHistogram.length; i++) this.stalenessHistogram[i] ??= 0;
    // apply() may clip in place; the received view must stay what was sent.
    this.acc.set(msg.grads);
    const { lr, gradNorm } = this.rule.apply(this.params, this.acc);
    if (this.bnState && msg.bnStats) {
      updateRunningStats(this.bnState, this.bnSpecs, combineMicroBatchMoments([unpackMoments(this.bnSpecs, msg.bnStats)]), { momentum: this.options.job.config.bnMomentum });
    }
    this.versionNow++;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    this.ack(connection, msg, 'accepted');
    this.options.onApplied?.({ step: msg.step, version: this.versionNow, microBatchIds: [msg.microBatchId], lr, gradNorm, losses: [msg.loss] });
    const ready = this.heldAsync.filter((h) => h.request.minVersion! <= this.versionNow);
    for (const h of ready) {
      this.heldAsync.splice(this.heldAsync.indexOf(h), 1);
      if (h.connection.isOpen) this.answer(h.connection, h.request);
    }
  }

  private dropHeld(connection: Connection): void {
    for (const [step, list] of this.held) this.held.set(step, list.filter((h) => h.connection !== connection));
    for (let i = this.heldAsync.length - 1; i >= 0; i--) if (this.heldAsync[i].connection === connection) this.heldAsync.splice(i, 1);
  }
}
