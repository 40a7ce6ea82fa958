import { gather, type DataPlan, type Split } from '@dptrain/data';
import type { Model } from '@dptrain/model';
import { silentLogger, type Connection, type Logger, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { bnStatsLength, packMoments } from '../bn-wire.js';
import type { ShardRange } from '../shards.js';
import { abortable } from './abortable.js';
import { InjectedFaults } from './injected-faults.js';
import { pushVerdict } from './push-verdict.js';

/** One lease's outcome and where its time went. */
export interface LeaseResult {
  /** Micro-batches whose pushes every shard acknowledged `accepted` or `duplicate`, in lease order. */
  readonly ids: number[];
  /** Their losses. */
  readonly losses: number[];
  /** Async: micro-batches a shard answered `stale` (the coordinator leases them again). */
  readonly stale: number[];
  /** Micro-batches a shard refused as poisoned (the coordinator leases them to another worker). */
  readonly refused: number[];
  readonly computeMs: number;
  readonly pullMs: number;
  /** From the last gradient computed until every push was acknowledged. */
  readonly pushMs: number;
}

/**
 * The per-lease work of a worker, with every parameter-sized buffer allocated once.
 *
 * Sync: one pull of step t from every shard, then for each micro-batch compute and push (the
 * pushes travel while the next micro-batch computes). Right after its last push the worker sends
 * the pull of step t+1, which the shard holds until t is applied: the parameters are on their way
 * before the coordinator's next lease arrives. A worker never waits on that pull while it has
 * other work, so a re-leased micro-batch of t cannot be starved by it. Async: before each micro-batch, a pull of
 * the newest parameters (`minVersion` = the newest version seen, so the worker reads its own
 * writes: a connection delivers in order, so the shard applied the previous push first), then
 * compute and push tagged with the pulled version.
 */
export interface LeaseComputerOptions {
  /** Async mode: pull before each micro-batch, `stale` acknowledgements are expected. */
  readonly async: boolean;
  /** How long a pull may be held at a shard. */
  readonly pullTimeoutMs: number;
  /** @default no faults */
  readonly faults?: InjectedFaults;
  /** @default silentLogger */
  readonly log?: Logger;
}

export class LeaseComputer {
  microBatches = 0;
  /** The worker's membership generation, sent with every push. */
  generation = 0;
  private readonly params: Float32Array;
  private readonly grad: Float32Array;
  private readonly bnStats: Float32Array;
  private readonly buffers: { x: Float32Array; y: Int32Array };
  private readonly seen: number[];
  /** Sync: the pull of the step after the last lease, sent as soon as that lease's pushes were. */
  private prefetched: { step: number; replies: Promise<ReplyOf<'pull'>[]> } | undefined;
  private readonly async: boolean;
  private readonly faults: InjectedFaults;
  private readonly log: Logger;

  constructor(
    private readonly model: Model,
    private readonly train: Split,
    private readonly plan: DataPlan,
    /** Shard connections; the worker replaces an entry when it reconnects. */
    private readonly shards: readonly Connection[],
    private readonly ranges: readonly ShardRange[],
    private readonly options: LeaseComputerOptions,
  ) {
    this.async = options.async;
    this.faults = options.faults ?? new InjectedFaults();
    this.log = options.log ?? silentLogger;
    this.params = new Float32Array(model.paramCount);
    this.grad = new Float32Array(model.paramCount);
    this.bnStats = new Float32Array(bnStatsLength(model.bnSpecs));
    const mbs = plan.microBatchSize;
    this.buffers = { x: new Float32Array(mbs * train.features), y: new Int32Array(mbs) };
    this.seen = new Array<number>(ranges.length).fill(0);
  }

  /**
   * Pulls, computes and pushes one lease; resolves once every push is acknowledged. A micro-batch
   * a shard refuses as poisoned is listed in `refused` and the lease goes on.
   * @param signal aborts the lease: pending pulls and pushes are abandoned (their late replies are
   *   ignored) and run() rejects with signal.reason
   * @throws ProtocolError E_CLOSED when a shard connection closes, E_STALE when a sync push is refused
   */
  async run(lease: MessageOf<'lease'>, signal?: AbortSignal): Promise<LeaseResult> {
    const timing = { computeMs: 0, pullMs: 0, pushMs: 0 };
    const { microBatches } = this.plan.step(lease.step);
    const pending: { id: number; loss: number; acks: Promise<ReplyOf<'push'>>[] }[] = [];
    let pulled = this.async ? undefined : await this.pullStep(lease.step, timing, signal);
    for (const id of lease.microBatchIds) {
      if (this.async) {
        for (let s = 0; s < this.seen.length; s++) this.seen[s] = Math.max(this.seen[s], lease.modelVersion);
        pulled = await this.pull(undefined, timing, signal);
      }
      const versions = pulled!;
      const mb = microBatches[id];
      const started = performance.now();
      const result = this.model.computeGradients(this.params, gather(this.train, mb.indices, this.buffers), this.grad);
      const bn = this.model.bnSpecs.length > 0 ? packMoments(this.model.bnSpecs, result.bnStats, this.bnStats) : undefined;
      const computeMs = performance.now() - started;
      // The injected slowness counts as compute: the time split shows what a slow machine's would.
      timing.computeMs += computeMs + (await this.faults.afterCompute(computeMs, signal));
      this.faults.poison(lease.step, result.grads);
      // send() copies each slice into its frame before returning, so the buffers are free again.
      const acks = this.shards.map((shard, s) => {
        const { offset, length } = this.ranges[s];
        return shard.request({
          type: 'push',
          step: lease.step,
          microBatchId: id,
          version: versions[s],
          generation: this.generation,
          offset,
          grads: result.grads.subarray(offset, offset + length),
          ...(s === 0 && bn ? { bnStats: bn } : {}),
          loss: result.loss,
          samples: mb.indices.length,
        });
      });
      // When an earlier ack fails (a shard closed), the later ones are never awaited: mark them handled.
      for (const ack of acks) ack.catch(() => undefined);
      pending.push({ id, loss: result.loss, acks });
      this.microBatches++;
      // Let the pushes reach the sockets (and a revocation reach us) while the next micro-batch computes.
      if (!this.async) await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
    }
    if (!this.async) {
      const replies = this.request({ step: lease.step + 1 });
      replies.catch(() => undefined);
      this.prefetched = { step: lease.step + 1, replies };
    }
    const pushStarted = performance.now();
    const outcome: LeaseResult = { ids: [], losses: [], stale: [], refused: [], computeMs: 0, pullMs: 0, pushMs: 0 };
    for (const { id, loss, acks } of pending) {
      const verdicts = await abortable(Promise.all(acks.map((ack) => pushVerdict(ack, this.async))), signal);
      let refused = false;
      verdicts.forEach((verdict, shard) => {
        if (verdict.status !== 'refused') return;
        refused = true;
        this.log({ level: 'warn', event: 'push-refused', step: lease.step, microBatchId: id, shard, reason: verdict.reason });
      });
      if (refused) outcome.refused.push(id);
      else if (verdicts.some((v) => v.status === 'stale')) outcome.stale.push(id);
      else {
        outcome.ids.push(id);
        outcome.losses.push(loss);
      }
    }
    timing.pushMs = performance.now() - pushStarted;
    return { ...outcome, ...timing };
  }

  /** Sync: the parameters of `step`, from the prefetched pull when it is that step's and succeeded. */
  private async pullStep(step: number, timing: { pullMs: number }, signal: AbortSignal | undefined): Promise<number[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched?.step === step) {
      const started = performance.now();
      try {
        const replies = await abortable(prefetched.replies, signal);
        timing.pullMs += performance.now() - started;
        return this.use(replies);
      } catch {
        signal?.throwIfAborted();
        // Refused or lost (a shard reconnected, the step was applied meanwhile): pull again.
      }
    }
    return this.pull({ step }, timing, signal);
  }

  private request(at: { step: number } | undefined): Promise<ReplyOf<'pull'>[]> {
    return Promise.all(this.shards.map((s, i) => s.request({ type: 'pull', ...(at ?? { minVersion: this.seen[i] }) }, { timeoutMs: this.options.pullTimeoutMs })));
  }

  /** Pulls every shard's slice into `params`; returns the version each shard served. */
  private async pull(at: { step: number } | undefined, timing: { pullMs: number }, signal: AbortSignal | undefined): Promise<number[]> {
    const started = performance.now();
    const replies = await abortable(this.request(at), signal);
    timing.pullMs += performance.now() - started;
    return this.use(replies);
  }

  /** Copies each shard's slice into `params`; returns the versions served. */
  private use(replies: ReplyOf<'pull'>[]): number[] {
    replies.forEach((reply, i) => {
      this.params.set(reply.values, this.ranges[i].offset);
      this.seen[i] = Math.max(this.seen[i], reply.version);
    });
    return replies.map((r) => r.version);
  }
}
