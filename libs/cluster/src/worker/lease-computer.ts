import { gather, type DataPlan, type Split } from '@dptrain/data';
import type { Model } from '@dptrain/model';
import { GradientSum } from '@dptrain/optim';
import { type Connection, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { noSpans, silentLogger, type Logger, type Spans } from '@dptrain/log';
import { bnStatsLength, packMoments } from '../bn-wire.js';
import type { ShardRange } from '../shards.js';
import { abortable } from './abortable.js';
import { InjectedFaults } from './injected-faults.js';
import type { LeaseComputerOptions, LeaseResult } from './lease-result.js';
import { leadingRun, ticketsOf } from './push-tickets.js';
import { pushVerdict, type PushVerdict } from './push-verdict.js';

export type { LeaseComputerOptions, LeaseResult } from './lease-result.js';
export { leadingRun } from './push-tickets.js';

type LeaseTiming = { computeMs: number; pullMs: number; pushMs: number };

/** Pushes sent and not yet judged: one micro-batch, or a run pushed as one sum. */
interface Pending {
  readonly ids: number[];
  readonly losses: number[];
  readonly acks: Promise<ReplyOf<'push'>>[];
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
  /** Sync: the sum of a pushed run (allocated at the first run). */
  private sum: GradientSum | undefined;
  /** Sync: per micro-batch of a run, its gathered batch and its gradient (grown on demand). */
  private readonly runArrays: { buffers: { x: Float32Array; y: Int32Array }[]; grads: Float32Array[] } = { buffers: [], grads: [] };
  /** Sync: whether leading runs of micro-batches are pushed as one sum. */
  private readonly presum: boolean;
  /** Sync: the pull of the step after the last lease, sent as soon as that lease's pushes were. */
  private prefetched: { step: number; replies: Promise<ReplyOf<'pull'>[]> } | undefined;
  private readonly async: boolean;
  private readonly faults: InjectedFaults;
  private readonly log: Logger;
  private readonly spans: Spans;

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
    this.presum = !options.async && options.presum !== false;
    this.faults = options.faults ?? new InjectedFaults();
    this.log = options.log ?? silentLogger;
    this.spans = options.spans ?? noSpans;
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
    const endLease = this.spans.begin('lease', { step: lease.step, leaseId: lease.leaseId, microBatches: lease.microBatchIds.length });
    try {
      return await this.runLease(lease, signal);
    } finally {
      endLease();
    }
  }

  private async runLease(lease: MessageOf<'lease'>, signal: AbortSignal | undefined): Promise<LeaseResult> {
    const timing = { computeMs: 0, pullMs: 0, pushMs: 0 };
    const pending: Pending[] = [];
    const pulled = this.async ? undefined : await this.pullStep(lease.step, timing, signal);
    // A run of one is an ordinary push.
    const leading = this.presum ? leadingRun(lease.microBatchIds) : 0;
    const run = leading > 1 ? leading : 0;
    if (run > 0) pending.push(await this.pushRun(lease, run, pulled!, timing, signal));
    const rest = lease.microBatchIds.filter((id) => id >= run);
    // The rest cannot be summed (a shard folds from micro-batch 0 on) but can still be computed in
    // one pass, where runs are (they hold a gradient per micro-batch; maxGradNorm jobs keep one).
    if (this.presum && rest.length > 1) pending.push(...(await this.pushEach(lease, rest, pulled!, timing, signal)));
    else for (const id of rest) pending.push(await this.pushOne(lease, id, pulled, timing, signal));
    if (!this.async) {
      const replies = this.request({ step: lease.step + 1 });
      replies.catch(() => undefined);
      this.prefetched = { step: lease.step + 1, replies };
    }
    const pushStarted = performance.now();
    const endPush = this.spans.begin('push', { step: lease.step });
    const outcome: LeaseResult = { ids: [], losses: [], stale: [], refused: [], computeMs: 0, pullMs: 0, pushMs: 0 };
    for (const entry of pending) {
      const verdicts = await this.verdicts(entry, signal);
      if (entry.ids.length > 1 && verdicts.some((v) => v.status !== 'applied')) {
        // A shard could not take the run as one sum (or refused the sum as poisoned): push each
        // micro-batch alone; recomputing gives the same bits, and a shard that took the run
        // answers them `duplicate`.
        this.log({ level: 'info', event: 'push-run-split', step: lease.step, microBatchIds: entry.ids, verdicts: verdicts.map((v) => v.status) });
        for (const id of entry.ids) await this.judge(lease, await this.pushOne(lease, id, pulled, timing, signal), outcome, signal);
        continue;
      }
      this.record(lease, entry, verdicts, outcome);
    }
    timing.pushMs = performance.now() - pushStarted;
    endPush({ accepted: outcome.ids.length });
    return { ...outcome, ...timing };
  }

  /** Each shard's verdict on a push, once all have answered. */
  private verdicts(entry: Pending, signal: AbortSignal | undefined): Promise<PushVerdict[]> {
    return abortable(Promise.all(entry.acks.map((ack) => pushVerdict(ack, this.async))), signal);
  }

  /** Waits for one push's acknowledgements and records the micro-batch's outcome. */
  private async judge(lease: MessageOf<'lease'>, entry: Pending, outcome: LeaseResult, signal: AbortSignal | undefined): Promise<void> {
    this.record(lease, entry, await this.verdicts(entry, signal), outcome);
  }

  private record(lease: MessageOf<'lease'>, entry: Pending, verdicts: PushVerdict[], outcome: LeaseResult): void {
    let refused = false;
    verdicts.forEach((verdict, shard) => {
      if (verdict.status !== 'refused') return;
      refused = true;
      this.log({
        level: 'warn',
        event: 'push-refused',
        step: lease.step,
        ...(entry.ids.length === 1 ? { microBatchId: entry.ids[0] } : { microBatchIds: entry.ids }),
        shard,
        reason: verdict.reason,
      });
    });
    if (refused) outcome.refused.push(...entry.ids);
    else if (verdicts.some((v) => v.status === 'stale')) outcome.stale.push(...entry.ids);
    else {
      outcome.ids.push(...entry.ids);
      outcome.losses.push(...entry.losses);
    }
  }

  /** Computes micro-batch `id` into `grad` (and its moments into `bnStats`). */
  private async compute(
    lease: MessageOf<'lease'>,
    id: number,
    timing: { computeMs: number },
    signal: AbortSignal | undefined,
  ): Promise<{ loss: number; bn: Float32Array | undefined; samples: number }> {
    const mb = this.plan.step(lease.step).microBatches[id];
    const started = performance.now();
    const endCompute = this.spans.begin('compute', { step: lease.step, microBatchId: id });
    const result = this.model.computeGradients(this.params, gather(this.train, mb.indices, this.buffers), this.grad);
    const bn = this.model.bnSpecs.length > 0 ? packMoments(this.model.bnSpecs, result.bnStats, this.bnStats) : undefined;
    await this.computed(lease.step, [this.grad], started, endCompute, timing, signal);
    return { loss: result.loss, bn, samples: mb.indices.length };
  }

  /** Computes micro-batches `ids` of the lease's step together (their moments into `bnRun`, a block each). */
  private async computeRun(
    lease: MessageOf<'lease'>,
    ids: readonly number[],
    timing: { computeMs: number },
    signal: AbortSignal | undefined,
    bnRun: Float32Array | undefined,
  ): Promise<{ losses: number[]; grads: Float32Array[]; samples: number[] }> {
    const count = ids.length;
    const run = this.runBuffers(count);
    const step = this.plan.step(lease.step);
    const microBatches = ids.map((id) => step.microBatches[id]!);
    const started = performance.now();
    const endCompute = this.spans.begin('compute', { step: lease.step, microBatchId: ids[0], microBatches: count });
    const batches = microBatches.map((mb, i) => gather(this.train, mb.indices, run.buffers[i]!));
    const results = this.model.computeGradientsEach(this.params, batches, run.grads);
    if (bnRun) {
      const block = bnRun.length / count;
      results.forEach((r, i) => packMoments(this.model.bnSpecs, r.bnStats, bnRun.subarray(i * block, (i + 1) * block)));
    }
    await this.computed(lease.step, run.grads, started, endCompute, timing, signal);
    return { losses: results.map((r) => r.loss), grads: run.grads, samples: microBatches.map((mb) => mb.indices.length) };
  }

  /** What every computation ends with: its span closed, its time counted, and the injected faults. */
  private async computed(
    step: number,
    grads: readonly Float32Array[],
    started: number,
    endCompute: () => void,
    timing: { computeMs: number },
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const computeMs = performance.now() - started;
    endCompute();
    // The injected slowness counts as compute: the time split shows what a slow machine's would.
    timing.computeMs += computeMs + (await this.faults.afterCompute(computeMs, signal));
    for (const grad of grads) this.faults.poison(step, grad);
    this.microBatches += grads.length;
  }

  /** Gather buffers and gradient arrays for a run of `count` micro-batches, kept between leases. */
  private runBuffers(count: number): { buffers: { x: Float32Array; y: Int32Array }[]; grads: Float32Array[] } {
    const mbs = this.plan.microBatchSize;
    while (this.runArrays.grads.length < count) {
      this.runArrays.buffers.push({ x: new Float32Array(mbs * this.train.features), y: new Int32Array(mbs) });
      this.runArrays.grads.push(new Float32Array(this.model.paramCount));
    }
    return { buffers: this.runArrays.buffers.slice(0, count), grads: this.runArrays.grads.slice(0, count) };
  }

  /** Computes and pushes one micro-batch; the acknowledgements are left pending. */
  private async pushOne(
    lease: MessageOf<'lease'>,
    id: number,
    pulled: number[] | undefined,
    timing: LeaseTiming,
    signal: AbortSignal | undefined,
  ): Promise<Pending> {
    if (this.async) {
      for (let s = 0; s < this.seen.length; s++) this.seen[s] = Math.max(this.seen[s], lease.modelVersion);
      pulled = await this.pull(undefined, timing, signal);
    }
    const { loss, bn, samples } = await this.compute(lease, id, timing, signal);
    return this.sent([id], [loss], this.sendPush(lease, id, pulled!, { grad: this.grad, bn, loss, samples }), signal);
  }

  /**
   * Sync: computes micro-batches `ids` in one pass (Model.computeGradientsEach: each gradient has
   * the bits of its own call), then pushes each alone, as pushOne would have.
   */
  private async pushEach(
    lease: MessageOf<'lease'>,
    ids: readonly number[],
    versions: number[],
    timing: LeaseTiming,
    signal: AbortSignal | undefined,
  ): Promise<Pending[]> {
    const block = this.bnStats.length;
    const bnRun = block > 0 ? new Float32Array(ids.length * block) : undefined;
    const { losses, grads, samples } = await this.computeRun(lease, ids, timing, signal, bnRun);
    const pending: Pending[] = [];
    for (const [i, id] of ids.entries()) {
      const bn = bnRun?.subarray(i * block, (i + 1) * block);
      pending.push(
        await this.sent([id], [losses[i]!], this.sendPush(lease, id, versions, { grad: grads[i]!, bn, loss: losses[i]!, samples: samples[i]! }), signal),
      );
    }
    return pending;
  }

  /** Sends one micro-batch's push to every shard; send() copies each slice into its frame before returning, so the buffers are free again. */
  private sendPush(
    lease: MessageOf<'lease'>,
    id: number,
    versions: number[],
    computed: { grad: Float32Array; bn: Float32Array | undefined; loss: number; samples: number },
  ): Promise<ReplyOf<'push'>>[] {
    const { grad, bn, loss, samples } = computed;
    return this.slices(grad).map((slice, s) =>
      this.shards[s].request({
        type: 'push',
        step: lease.step,
        microBatchId: id,
        version: versions[s],
        generation: this.generation,
        ...slice,
        ...(s === 0 && bn ? { bnStats: bn } : {}),
        loss,
        samples,
        ...ticketsOf(lease, [id], (tickets) => ({ ticket: tickets[0]! })),
      }),
    );
  }

  /**
   * Sync: computes micro-batches 0..count−1 and pushes their sum, folded from zero in id order as
   * a shard folds them (messages.ts, pushRun), once to each shard. The micro-batches are computed
   * in one pass (Model.computeGradientsEach: each one's gradient has the bits of its own call).
   */
  private async pushRun(lease: MessageOf<'lease'>, count: number, versions: number[], timing: LeaseTiming, signal: AbortSignal | undefined): Promise<Pending> {
    const sum = (this.sum ??= new GradientSum(this.model.paramCount));
    sum.reset();
    const blockLength = this.bnStats.length;
    const bnRun = blockLength > 0 ? new Float32Array(count * blockLength) : undefined;
    const ids = Array.from({ length: count }, (_, id) => id);
    const { losses, grads } = await this.computeRun(lease, ids, timing, signal, bnRun);
    for (const grad of grads) sum.add(grad);
    // Let a revocation reach us before the pushes go out.
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    const acks = this.slices(sum.sum).map((slice, s) =>
      this.shards[s].request({
        type: 'pushRun',
        step: lease.step,
        microBatchId: 0,
        count,
        version: versions[s],
        generation: this.generation,
        ...slice,
        ...(s === 0 && bnRun ? { bnStats: bnRun } : {}),
        losses,
        ...ticketsOf(lease, ids, (tickets) => ({ tickets })),
      }),
    );
    for (const ack of acks) ack.catch(() => undefined);
    return { ids, losses, acks };
  }

  /** Each shard's offset and its slice of `vector` (views, not copies). */
  private slices(vector: Float32Array): { offset: number; grads: Float32Array }[] {
    return this.ranges.map(({ offset, length }) => ({ offset, grads: vector.subarray(offset, offset + length) }));
  }

  /** Bookkeeping after a single push was sent. */
  private async sent(ids: number[], losses: number[], acks: Promise<ReplyOf<'push'>>[], signal: AbortSignal | undefined): Promise<Pending> {
    // When an earlier ack fails (a shard closed), the later ones are never awaited: mark them handled.
    for (const ack of acks) ack.catch(() => undefined);
    // Let the pushes reach the sockets (and a revocation reach us) while the next micro-batch computes.
    if (!this.async) await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    return { ids, losses, acks };
  }

  /** Sync: the parameters of `step`, from the prefetched pull when it is that step's and succeeded. */
  private async pullStep(step: number, timing: { pullMs: number }, signal: AbortSignal | undefined): Promise<number[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched?.step === step) {
      const started = performance.now();
      const endPull = this.spans.begin('pull', { step, prefetched: true });
      let replies: ReplyOf<'pull'>[] | undefined;
      try {
        replies = await abortable(prefetched.replies, signal);
      } catch {
        endPull({ failed: true });
        signal?.throwIfAborted();
        // Refused or lost (a shard reconnected, the step was applied meanwhile): pull again.
      }
      if (replies) {
        timing.pullMs += performance.now() - started;
        endPull();
        return this.use(replies);
      }
    }
    return this.pull({ step }, timing, signal);
  }

  private request(at: { step: number } | undefined): Promise<ReplyOf<'pull'>[]> {
    return Promise.all(
      this.shards.map((s, i) => s.request({ type: 'pull', ...(at ?? { minVersion: this.seen[i] }) }, { timeoutMs: this.options.pullTimeoutMs })),
    );
  }

  /** Pulls every shard's slice into `params`; returns the version each shard served. */
  private async pull(at: { step: number } | undefined, timing: { pullMs: number }, signal: AbortSignal | undefined): Promise<number[]> {
    const started = performance.now();
    const endPull = this.spans.begin('pull', at ?? { minVersion: Math.max(...this.seen) });
    try {
      const replies = await abortable(this.request(at), signal);
      timing.pullMs += performance.now() - started;
      return this.use(replies);
    } finally {
      endPull();
    }
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
