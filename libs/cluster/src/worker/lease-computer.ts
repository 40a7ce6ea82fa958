import { gather, type DataPlan, type Split } from '@dptrain/data';
import type { Model } from '@dptrain/model';
import { ProtocolError, type Connection, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { bnStatsLength, packMoments } from '../bn-wire.js';
import type { ShardRange } from '../shards.js';

/** One lease's outcome and where its time went. */
export interface LeaseResult {
  /** Micro-batches whose pushes every shard acknowledged `accepted` or `duplicate`, in lease order. */
  readonly ids: number[];
  /** Their losses. */
  readonly losses: number[];
  /** Async: micro-batches a shard answered `stale` (the coordinator leases them again). */
  readonly stale: number[];
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

  constructor(
    private readonly model: Model,
    private readonly train: Split,
    private readonly plan: DataPlan,
    /** Shard connections; the worker replaces an entry when it reconnects. */
    private readonly shards: readonly Connection[],
    private readonly ranges: readonly ShardRange[],
    private readonly async: boolean,
    private readonly pullTimeoutMs: number,
  ) {
    this.params = new Float32Array(model.paramCount);
    this.grad = new Float32Array(model.paramCount);
    this.bnStats = new Float32Array(bnStatsLength(model.bnSpecs));
    const mbs = plan.microBatchSize;
    this.buffers = { x: new Float32Array(mbs * train.features), y: new Int32Array(mbs) };
    this.seen = new Array<number>(ranges.length).fill(0);
  }

  /**
   * Pulls, computes and pushes one lease; resolves once every push is acknowledged.
   * @throws ProtocolError E_CLOSED when a shard connection closes, E_STALE when a sync push is refused
   */
  async run(lease: MessageOf<'lease'>): Promise<LeaseResult> {
    const timing = { computeMs: 0, pullMs: 0, pushMs: 0 };
    const { microBatches } = this.plan.step(lease.step);
    const pending: { id: number; loss: number; acks: Promise<ReplyOf<'push'>>[] }[] = [];
    let pulled = this.async ? undefined : await this.pullStep(lease.step, timing);
    for (const id of lease.microBatchIds) {
      if (this.async) {
        for (let s = 0; s < this.seen.length; s++) this.seen[s] = Math.max(this.seen[s], lease.modelVersion);
        pulled = await this.pull(undefined, timing);
      }
      const versions = pulled!;
      const mb = microBatches[id];
      const started = performance.now();
      const result = this.model.computeGradients(this.params, gather(this.train, mb.indices, this.buffers), this.grad);
      const bn = this.model.bnSpecs.length > 0 ? packMoments(this.model.bnSpecs, result.bnStats, this.bnStats) : undefined;
      timing.computeMs += performance.now() - started;
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
      // Let the pushes reach the sockets while the next micro-batch computes.
      if (!this.async) await new Promise((resolve) => setImmediate(resolve));
    }
    if (!this.async) {
      const replies = this.request({ step: lease.step + 1 });
      replies.catch(() => undefined);
      this.prefetched = { step: lease.step + 1, replies };
    }
    const pushStarted = performance.now();
    const outcome: LeaseResult = { ids: [], losses: [], stale: [], computeMs: 0, pullMs: 0, pushMs: 0 };
    for (const { id, loss, acks } of pending) {
      const statuses = await Promise.all(acks);
      const refused = statuses.find((a) => a.status === 'rejected' || (a.status === 'stale' && !this.async));
      if (refused) throw new ProtocolError('E_STALE', `push of step ${refused.step} micro-batch ${refused.microBatchId} was ${refused.status}: ${refused.reason ?? ''}`);
      if (statuses.some((a) => a.status === 'stale')) outcome.stale.push(id);
      else {
        outcome.ids.push(id);
        outcome.losses.push(loss);
      }
    }
    timing.pushMs = performance.now() - pushStarted;
    return { ...outcome, ...timing };
  }

  /** Sync: the parameters of `step`, from the prefetched pull when it is that step's and succeeded. */
  private async pullStep(step: number, timing: { pullMs: number }): Promise<number[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched?.step === step) {
      const started = performance.now();
      try {
        const replies = await prefetched.replies;
        timing.pullMs += performance.now() - started;
        return this.use(replies);
      } catch {
        // Refused or lost (a shard reconnected, the step was applied meanwhile): pull again.
      }
    }
    return this.pull({ step }, timing);
  }

  private request(at: { step: number } | undefined): Promise<ReplyOf<'pull'>[]> {
    return Promise.all(this.shards.map((s, i) => s.request({ type: 'pull', ...(at ?? { minVersion: this.seen[i] }) }, { timeoutMs: this.pullTimeoutMs })));
  }

  /** Pulls every shard's slice into `params`; returns the version each shard served. */
  private async pull(at: { step: number } | undefined, timing: { pullMs: number }): Promise<number[]> {
    const started = performance.now();
    const replies = await this.request(at);
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
