import { leadingRun, type ShardRange } from '@dptrain/cluster';
import type { SpanArgs, SpanName, Spans } from '@dptrain/log';
import { ProtocolError, type Connection, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { Mulberry32 } from '@dptrain/random';
import { computeRunCost, upperMedian } from './calibration.js';
import { carry, decodeAt, encodeAndCarry, helpersAfter, type Node, type World } from './world.js';

/** Slow micro-batches: each takes `slowdown` times its drawn compute time with `probability`. */
export interface Stragglers {
  readonly probability: number;
  readonly slowdown: number;
}

const SPAN_OF = { computeMs: 'compute', pullMs: 'pull', pushMs: 'push' } as const satisfies Record<string, SpanName>;

/** A requests never time out in the simulation: a late reply is what the model is about. */
const NO_TIMEOUT = { timeoutMs: 1e12 };

interface WorkerLinks {
  /** The worker's end of its coordinator connection. */
  readonly coordinator: Connection;
  /** The worker's end of each shard connection, with the shard's node and slice. */
  readonly shards: readonly { readonly connection: Connection; readonly node: Node; readonly range: ShardRange }[];
}

/**
 * A modelled worker. It speaks the real protocol to the real coordinator and shards and follows
 * the real worker's schedule (worker.ts, lease-computer.ts): sync — pull the step from every
 * shard (or use the pull of it sent right after the previous lease's last push), compute the
 * lease's leading run 0..k−1 (k ≥ 2) and push its sum once, then compute the remaining
 * micro-batches in one pass (one alone: on its own) and push each shard each one's slice, pull the
 * next step, wait for the acknowledgements, report leaseDone; async — per micro-batch pull the newest
 * version, compute, push. Computing is a draw from the measured compute times (times a straggler
 * factor) on the worker's CPU; its gradients are a constant finite vector, since values do not
 * change timing.
 */
export class SimWorker {
  private readonly leases: MessageOf<'lease'>[] = [];
  private readonly revoked = new Set<number>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly random: Mulberry32;
  private readonly grads: Float32Array;
  private readonly seen: number[];
  private prefetched: { step: number; versions: Promise<number[]> } | undefined;
  private readonly openSpans = new Set<() => void>();
  /** The median of the calibrated single micro-batch times, against which a draw's variation is taken. */
  private readonly singleMedian: number;
  /** Micro-batches computed, including ones that were not needed in the end (backups, stale). */
  microBatches = 0;

  constructor(
    private readonly world: World,
    readonly node: Node,
    readonly name: string,
    private readonly links: WorkerLinks,
    private readonly options: {
      readonly async: boolean;
      /** Sync: a lease's micro-batches computed in one pass (a leading run pushed as one sum, the rest each alone). */
      readonly presum: boolean;
      readonly grads: Float32Array;
      readonly computeScale: number;
      readonly stragglers?: Stragglers;
      readonly seed: number;
      /** Its lease, pull, compute and push spans, as the real worker records them. */
      readonly spans: Spans;
    },
  ) {
    this.random = new Mulberry32(options.seed);
    this.grads = options.grads;
    this.seen = links.shards.map(() => 0);
    this.singleMedian = upperMedian(world.calibration.computeMs);
  }

  /** Registers and works until the coordinator says shutdown (or stop() is called). */
  async run(): Promise<void> {
    const { coordinator } = this.links;
    coordinator.on('message', (msg) => {
      if (msg.type !== 'lease' && msg.type !== 'leaseRevoked' && msg.type !== 'shutdown') return;
      void carry(this.world, this.world.coordinator, this.node, 0)
        .then(() => decodeAt(this.world, this.world.coordinator, this.node, 0, 0, true))
        .then(() => {
          if (msg.type === 'lease') this.leases.push(msg);
          else if (msg.type === 'leaseRevoked') this.revoked.add(msg.leaseId);
          else this.stopped = true;
          this.wake?.();
        });
    });
    await this.toCoordinator(() => coordinator.request({ type: 'register', name: this.name, pid: 0, backend: 'simulated' }, NO_TIMEOUT));
    let idleSince = this.world.queue.now;
    while (!this.stopped) {
      const lease = this.leases.shift();
      if (!lease) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (this.revoked.has(lease.leaseId)) continue;
      const waitMs = this.world.queue.now - idleSince;
      const endLease = this.begin('lease', { step: lease.step, leaseId: lease.leaseId, microBatches: lease.microBatchIds.length });
      const result = await this.runLease(lease);
      idleSince = this.world.queue.now;
      // The real lease span ends where the worker reports the lease, before the report goes out.
      endLease();
      await this.toCoordinator(() =>
        coordinator.send({
          type: 'leaseDone',
          leaseId: lease.leaseId,
          step: lease.step,
          microBatchIds: result.ids,
          losses: result.ids.map(() => 1),
          ...(result.stale.length > 0 ? { stale: result.stale } : {}),
          computeMs: result.computeMs,
          pullMs: result.pullMs,
          pushMs: result.pushMs,
          waitMs,
        }),
      );
    }
  }

  /** Stops after the lease in hand. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
    // The simulation ends with the job: a lease still waiting for its last acknowledgements ends here, as a stopped worker's would.
    for (const end of [...this.openSpans]) end();
  }

  /** Begins a span that stop() ends if nothing else has. */
  private begin(name: SpanName, args: SpanArgs): () => void {
    const end = this.options.spans.begin(name, args);
    const once = () => {
      if (this.openSpans.delete(once)) end();
    };
    this.openSpans.add(once);
    return once;
  }

  /** Sends a small message to the coordinator: encoded here, carried, handled there, then really sent. */
  private async toCoordinator<T>(send: () => Promise<T>): Promise<T> {
    const coordinator = this.world.coordinator;
    await encodeAndCarry(this.world, this.node, coordinator, 0);
    await coordinator.process.work(this.world.calibration.coordinatorMsPerMessage);
    return send();
  }

  private async runLease(lease: MessageOf<'lease'>): Promise<{ ids: number[]; stale: number[]; computeMs: number; pullMs: number; pushMs: number }> {
    const timing = { computeMs: 0, pullMs: 0, pushMs: 0 };
    const acks: { ids: number[]; replies: Promise<ReplyOf<'push'>[]> }[] = [];
    try {
      let versions = this.options.async ? [] : await this.pullStep(lease.step, timing);
      // Sync: micro-batches 0..k−1 (k ≥ 2) are summed here and pushed as one run, as the real worker does.
      const leading = this.options.presum ? leadingRun(lease.microBatchIds) : 0;
      const run = leading > 1 ? leading : 0;
      if (run > 0) {
        await this.timed(timing, 'computeMs', lease.step, () => this.computeRun(run));
        for (let id = 0; id < run; id++) await this.node.process.work((this.world.calibration.foldMsPerMFloat * this.grads.length) / 1e6);
        const replies = Promise.all(this.links.shards.map((_, s) => this.push(lease, 0, versions[s], s, run)));
        replies.catch(() => undefined);
        acks.push({ ids: Array.from({ length: run }, (_, id) => id), replies });
      }
      const rest = lease.microBatchIds.filter((id) => id >= run);
      // Sync, the rest in one pass too, each pushed alone, as the real worker does (pushEach).
      const onePass = this.options.presum && rest.length > 1;
      if (onePass) await this.timed(timing, 'computeMs', lease.step, () => this.computeRun(rest.length));
      for (const id of rest) {
        if (this.options.async) {
          for (let s = 0; s < this.seen.length; s++) this.seen[s] = Math.max(this.seen[s], lease.modelVersion);
          versions = await this.timed(timing, 'pullMs', lease.step, () => this.pull(undefined));
        }
        if (!onePass) await this.timed(timing, 'computeMs', lease.step, () => this.computeOne());
        const replies = Promise.all(this.links.shards.map((_, s) => this.push(lease, id, versions[s], s)));
        replies.catch(() => undefined);
        acks.push({ ids: [id], replies });
      }
      if (!this.options.async) {
        const versions = this.pull({ step: lease.step + 1 });
        versions.catch(() => undefined);
        this.prefetched = { step: lease.step + 1, versions };
      }
      const outcome = { ids: [] as number[], stale: [] as number[] };
      await this.timed(timing, 'pushMs', lease.step, async () => {
        for (const { ids, replies } of acks) {
          const statuses = await replies;
          const refused = statuses.find((a) => a.status === 'rejected' || a.status === 'split' || (a.status === 'stale' && !this.options.async));
          if (refused) throw new ProtocolError('E_STALE', `push of step ${refused.step} micro-batch ${refused.microBatchId} was ${refused.status}`);
          if (statuses.some((a) => a.status === 'stale')) outcome.stale.push(...ids);
          else outcome.ids.push(...ids);
        }
      });
      return { ...outcome, ...timing };
    } catch (error) {
      // Overtaken: the step was applied from other workers' pushes (a backup lease finished first).
      if (error instanceof ProtocolError && error.code === 'E_STALE') return { ids: [], stale: [], ...timing };
      throw error;
    }
  }

  /** Times `work` of `step` into `timing[key]` and records it as the real worker's span of that name. */
  private async timed<T>(
    timing: Record<'computeMs' | 'pullMs' | 'pushMs', number>,
    key: 'computeMs' | 'pullMs' | 'pushMs',
    step: number,
    work: () => Promise<T>,
  ): Promise<T> {
    const started = this.world.queue.now;
    const end = this.begin(SPAN_OF[key], { step });
    try {
      const result = await work();
      timing[key] += this.world.queue.now - started;
      return result;
    } finally {
      end();
    }
  }

  /**
   * One micro-batch's compute: the main thread's part holds the worker, its helper threads' part
   * only takes CPU, beside it and after it.
   */
  private async computeOne(): Promise<void> {
    this.microBatches++;
    const c = this.world.calibration;
    const scale = this.options.computeScale;
    this.node.process.helpers((c.computeHelperMs ?? 0) * scale);
    await this.node.process.work(this.computeMs());
    helpersAfter(this.world, this.node, (c.computeHelperAfterMs ?? 0) * scale);
  }

  /**
   * A sync lease's leading run of `count` micro-batches computed in one pass, as the real worker
   * does (computeGradientsEach): the calibrated run's cost, varied as a single micro-batch's
   * samples vary, with one straggler draw for the run as the real worker injects one slow-down
   * per run. Without a calibrated run, `count` single micro-batches.
   */
  private async computeRun(count: number): Promise<void> {
    const run = computeRunCost(this.world.calibration, count);
    if (!run) {
      for (let i = 0; i < count; i++) await this.computeOne();
      return;
    }
    this.microBatches += count;
    const scale = this.options.computeScale;
    this.node.process.helpers(run.helperMs * scale);
    await this.node.process.work(this.straggling((this.draw() / this.singleMedian) * run.ms * scale));
    helpersAfter(this.world, this.node, (run.helperAfterMs ?? 0) * scale);
  }

  /** A draw from the calibrated single micro-batch compute times, scaled to the job's micro-batch, straggling or not. */
  private computeMs(): number {
    return this.straggling(this.draw() * this.options.computeScale);
  }

  private draw(): number {
    const samples = this.world.calibration.computeMs;
    return samples[this.random.nextUint32() % samples.length];
  }

  private straggling(ms: number): number {
    const s = this.options.stragglers;
    return s && this.random.nextFloat() < s.probability ? ms * s.slowdown : ms;
  }

  private pullStep(step: number, timing: { pullMs: number }): Promise<number[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched?.step === step) return this.timed(timing as never, 'pullMs', step, () => prefetched.versions.catch(() => this.pull({ step })));
    return this.timed(timing as never, 'pullMs', step, () => this.pull({ step }));
  }

  /** Pulls every shard's slice (sync: of `at.step`; async: the newest version seen or later). */
  private pull(at: { step: number } | undefined): Promise<number[]> {
    return Promise.all(
      this.links.shards.map(async (shard, s) => {
        await encodeAndCarry(this.world, this.node, shard.node, 0);
        const reply = await shard.connection.request({ type: 'pull', ...(at ?? { minVersion: this.seen[s] }) }, NO_TIMEOUT);
        await carry(this.world, shard.node, this.node, reply.values.byteLength);
        await decodeAt(this.world, shard.node, this.node, reply.values.byteLength, 0, true);
        this.seen[s] = Math.max(this.seen[s], reply.version);
        return reply.version;
      }),
    );
  }

  /** Pushes micro-batch `id`, or with `count` the run of micro-batches 0..count−1 as one sum. */
  private async push(lease: MessageOf<'lease'>, id: number, version: number, s: number, count?: number): Promise<ReplyOf<'push'>> {
    const shard = this.links.shards[s];
    const { offset, length } = shard.range;
    const grads = this.grads.subarray(offset, offset + length);
    await encodeAndCarry(this.world, this.node, shard.node, grads.byteLength);
    const head = { step: lease.step, microBatchId: id, version, generation: 0, offset, grads };
    const ack = await shard.connection.request(
      count === undefined ? { type: 'push', ...head, loss: 1, samples: 1 } : { type: 'pushRun', ...head, count, losses: new Array<number>(count).fill(1) },
      NO_TIMEOUT,
    );
    await carry(this.world, shard.node, this.node, 0);
    await decodeAt(this.world, shard.node, this.node, 0, 0, true);
    return ack;
  }
}
