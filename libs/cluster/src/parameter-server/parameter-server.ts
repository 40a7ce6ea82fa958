import { join } from 'node:path';
import type { OptimizerState } from '@dptrain/optim';
import { ProtocolError, type Connection, type Message, type MessageOf, type ValidateOptions } from '@dptrain/protocol';
import { noSpans, silentLogger, type Logger, type Spans } from '@dptrain/log';
import { bnStatsLength } from '../bn-wire.js';
import { planSizes, type JobDescription, type PlanSizes } from '@dptrain/job';
import type { ShardRange } from '../shards.js';
import type { Aggregation, AggregationHost, AggregationPolicy, PushMessage, PushStatus } from './aggregation.js';
import { AsyncApply } from './async-apply.js';
import { jobFingerprint } from './job-fingerprint.js';
import { PushGuards } from './push-guards.js';
import { readSavedJob } from './saved-job.js';
import type { DurabilityOptions } from './shard-durability.js';
import { ShardPulls } from './shard-pulls.js';
import { makeDurable } from './shard-restore.js';
import { ShardState } from './shard-state.js';
import type { AppliedReport, ParameterServerOptions, StepRefusal } from './shard-types.js';
import { ShardUpdates } from './shard-updates.js';
import { SyncSum } from './sync-sum.js';
import { WireBytes } from './wire-bytes.js';

export { MAX_HELD_PULLS } from './parked-pulls.js';
export { SETTLE_WAIT_MS } from './shard-updates.js';
export type { AppliedReport, ParameterServerOptions, StepRefusal } from './shard-types.js';

export interface OpenOptions extends ParameterServerOptions {
  /** Checkpoints and write-ahead log; without it the shard keeps its state in memory only. */
  readonly durability?: DurabilityOptions;
}

/**
 * One parameter-server shard: routes each message to the part that owns it. Its slice of the
 * parameters and optimizer state is a ShardState; pushes go to the aggregation policy chosen from
 * the job's mode (SyncSum, AsyncApply); each update goes through its phases in ShardUpdates;
 * pulls are answered or parked by ShardPulls.
 *
 * Durability (`ParameterServer.open` with `durability`): each update is appended to a write-ahead
 * log before the coordinator hears of it (shard-updates.ts), and the state is checkpointed every
 * `every` steps; a shard opened with `resume` restores the newest valid checkpoint and replays the
 * log after it, so it comes back at the version it had, bit for bit (libs/cluster/README.md,
 * "Shard checkpoints").
 */
export class ParameterServer {
  /**
   * Counters for status reports: `accepted` and `duplicate` count micro-batches (a pushRun counts
   * each of its run), the others messages; `poisoned` pushes (beyond maxGradNorm) are not in
   * `rejected`; `split` counts pushRuns answered `split`.
   */
  readonly counters = { accepted: 0, duplicate: 0, stale: 0, rejected: 0, poisoned: 0, split: 0, pulls: 0, unticketed: 0 };
  readonly job: JobDescription;
  /** This shard's index, 0..psShards−1. */
  readonly shard: number;
  readonly range: ShardRange;
  /** Length of the whole flat parameter vector. */
  readonly paramCount: number;
  readonly plan: PlanSizes;
  readonly params: Float32Array;
  readonly bnState: Float32Array | undefined;
  /** Async: how many gradients were applied at each staleness (index = current − v). */
  readonly stalenessHistogram: number[];
  private readonly state: ShardState;
  private readonly updates: ShardUpdates;
  private readonly aggregation: Aggregation;
  private readonly pulls: ShardPulls;
  private readonly guards: PushGuards;
  /** sha256 of the job, shard and range: checkpoints and logs of this shard carry it. */
  private readonly fingerprint: string;
  private readonly log: Logger;
  private readonly spans: Spans;
  private readonly wire = new WireBytes();
  /** The step this shard refused (not finite); it serves nothing after. */
  private refusal: StepRefusal | undefined;

  /**
   * A shard whose state starts from the job's initial parameters and lives in memory only; use
   * `ParameterServer.open` for checkpoints, the write-ahead log and resume.
   */
  constructor(private readonly options: ParameterServerOptions) {
    if ('durability' in options)
      throw new RangeError('durability needs ParameterServer.open(options), which restores before serving; the constructor ignores it');
    const { job, shard } = options;
    this.job = job;
    this.shard = shard;
    this.log = options.log ?? silentLogger;
    this.spans = options.spans ?? noSpans;
    const Policy: AggregationPolicy = job.config.mode === 'async' ? AsyncApply : SyncSum;
    this.state = new ShardState({ job, shard, updatesPerStep: Policy.updatesPerStep(planSizes(job)), keepsPrevious: Policy.keepsPrevious, log: this.log });
    ({
      range: this.range,
      paramCount: this.paramCount,
      plan: this.plan,
      params: this.params,
      bnState: this.bnState,
      stalenessHistogram: this.stalenessHistogram,
    } = this.state);
    this.pulls = new ShardPulls(this.state, this.counters, shard);
    this.updates = new ShardUpdates(this.state, {
      shard,
      log: this.log,
      spans: this.spans,
      serve: () => this.pulls.serve(),
      refuse: (step, reason) => this.refuseStep(step, reason),
      onApplied: (report) => options.onApplied?.(report),
      // By default the process dies as a kill would kill it.
      onFatal:
        options.onFatal ??
        ((e) =>
          setImmediate(() => {
            throw e;
          })),
    });
    this.guards = new PushGuards({
      job,
      shard,
      plan: this.state.plan,
      bnSpecs: this.state.bnSpecs,
      log: this.log,
      counters: this.counters,
      ...(options.tickets ? { tickets: options.tickets } : {}),
    });
    const ack: AggregationHost['ack'] = (connection, msg, status, reason) => this.ack(connection, msg, status, reason);
    this.aggregation = new Policy({ shard, state: this.state, updates: this.updates, pulls: this.pulls, guards: this.guards, ack }, job);
    this.fingerprint = jobFingerprint(job, shard, this.state.range);
  }

  /**
   * Builds a shard and, with `durability`, makes it durable before it serves: on `resume` it
   * restores the newest valid checkpoint and replays the write-ahead log after it (`version` is
   * then the restored version); otherwise it clears the directory of an earlier run.
   */
  static async open(options: OpenOptions): Promise<ParameterServer> {
    const { durability, ...rest } = options;
    const ps = new ParameterServer(rest);
    if (durability)
      await makeDurable(durability, {
        job: ps.job,
        shard: ps.shard,
        fingerprint: ps.fingerprint,
        state: ps.state,
        updates: ps.updates,
        log: ps.log,
        spans: ps.spans,
      });
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

  get version(): number {
    return this.state.version;
  }

  /** Whether `job` is the job this shard runs (the same fingerprint), e.g. a restarted coordinator's. */
  runs(job: JobDescription): boolean {
    return jobFingerprint(job, this.shard, this.range) === this.fingerprint;
  }

  /** A copy of the optimizer's state (moments, velocity, step count) over this shard's slice. */
  optimizerState(): OptimizerState {
    this.updates.settle();
    return this.state.optimizerState();
  }

  /** The last ≤ 8 updates (sync: one per step), oldest first: re-sent to a restarted coordinator. */
  recentApplied(): AppliedReport[] {
    this.updates.settle();
    return this.state.recentApplied();
  }

  /** Resolves once no checkpoint is being written (never while the stall fault holds one). */
  async checkpointsSettled(): Promise<void> {
    this.updates.settle();
    await this.updates.durability?.settled();
  }

  /**
   * At the end of the job (the coordinator's shutdown): a durable checkpoint of the final state
   * replaces the write-ahead log; then `close()`.
   */
  async finish(): Promise<void> {
    this.updates.settle();
    await this.updates.durability?.finish(this.state.snapshot());
  }

  /** Closes the write-ahead log and gives up a checkpoint being written; the shard must not be used after. */
  async close(): Promise<void> {
    this.updates.settle();
    const durability = this.updates.durability;
    this.updates.durability = undefined;
    await durability?.close();
  }

  /** What the protocol must check on every connection to this shard before a message arrives. */
  validateOptions(paramCount: number): ValidateOptions {
    const { bnSpecs, bnState } = this.state;
    return { paramCount, slice: this.range, ...(bnSpecs.length > 0 ? { bnStatsLength: bnStatsLength(bnSpecs), bnStateLength: bnState!.length } : {}) };
  }

  /** Serves `connection`: pulls, pushes and status requests. */
  attach(connection: Connection): void {
    this.wire.add(connection);
    connection.on('message', (msg) => this.handle(connection, msg));
    connection.on('close', () => {
      this.wire.closed(connection);
      this.pulls.drop(connection);
    });
  }

  /** Handles one validated message; refusals get an error reply and a log line. */
  handle(connection: Connection, msg: Message): void {
    // Nothing is handled before the served update is logged: a push could otherwise change the gradient its record holds.
    this.updates.settle();
    try {
      if (this.refusal && (msg.type === 'pull' || msg.type === 'push' || msg.type === 'pushRun')) throw this.refusedError(msg.seq);
      if (msg.type === 'pull') this.pulls.pull(connection, msg, this.aggregation);
      else if (msg.type === 'push') this.push(connection, msg);
      else if (msg.type === 'pushRun') this.pushRun(connection, msg);
      else if (msg.type === 'status')
        void connection.reply(msg, { type: 'statusReport', role: 'ps', step: this.state.step, version: this.version, detail: this.status() });
      else if (msg.type !== 'shutdown' && msg.type !== 'error')
        throw new ProtocolError('E_ROLE', `a parameter server does not handle ${msg.type}; send pull, push or status`, { ref: msg.seq });
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_INTERNAL', String(error), { cause: error });
      // A pull of a step already applied is a lease overtaken by a backup or a re-lease: routine.
      this.log({
        level: refusal.code === 'E_STALE' ? 'info' : 'warn',
        event: 'ps-refused',
        shard: this.shard,
        type: msg.type,
        code: refusal.code,
        message: refusal.message,
      });
      void connection.replyError(msg, refusal);
    }
  }

  status(): { [key: string]: number | string | number[] } {
    this.updates.settle();
    return {
      shard: this.shard,
      offset: this.range.offset,
      length: this.range.length,
      mode: this.job.config.mode,
      version: this.version,
      ...this.counters,
      appliedMicroBatches: this.state.appliedMicroBatches,
      doubleApplied: this.state.doubleApplied,
      stalenessHistogram: this.stalenessHistogram,
      // Wall time of live updates (log record, previous point, optimizer, batch-norm statistics): the server's part of a step.
      applyMs: Math.round(this.updates.applyMs * 1000) / 1000,
      ...this.wire.totals(),
    };
  }

  private push(connection: Connection, msg: MessageOf<'push'>): void {
    const poisoned = this.guards.push(msg);
    if (poisoned) {
      this.ack(connection, msg, 'rejected', poisoned, 'poisoned');
      return;
    }
    const endFold = this.spans.begin('fold', { step: msg.step, microBatchId: msg.microBatchId });
    try {
      this.aggregation.push(connection, msg);
    } finally {
      endFold();
    }
  }

  private pushRun(connection: Connection, msg: MessageOf<'pushRun'>): void {
    this.guards.requireTickets(msg);
    const endFold = this.spans.begin('fold', { step: msg.step, microBatchId: msg.microBatchId, count: msg.count });
    try {
      this.aggregation.pushRun(connection, msg);
    } finally {
      endFold();
    }
  }

  private ack(connection: Connection, msg: PushMessage, status: PushStatus, reason?: string, counter: keyof typeof this.counters = status): void {
    // accepted and duplicate count micro-batches, however they travelled.
    this.counters[counter] += msg.type === 'pushRun' && (status === 'accepted' || status === 'duplicate') ? msg.count : 1;
    void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status, ...(reason ? { reason } : {}) });
  }

  /**
   * The shard will not apply step `step` (not finite): nothing of it was served or logged, but its
   * parameters may have changed, so it serves nothing more. The parked pulls are answered with the
   * reason and the coordinator is told; it fails the job.
   */
  private refuseStep(step: number, reason: string): void {
    this.refusal = { step, version: this.version, reason };
    this.log({ level: 'error', event: 'step-refused', shard: this.shard, step, message: `shard ${this.shard} refused step ${step}: ${reason}` });
    this.pulls.refuseAll((ref) => this.refusedError(ref));
    this.options.onRefused?.(this.refusal);
  }

  private refusedError(ref: number): ProtocolError {
    const { step, reason } = this.refusal!;
    return new ProtocolError('E_NON_FINITE', `shard ${this.shard} refused step ${step} and serves no more: ${reason}`, { ref });
  }
}
