import { createDataPlan, gather, type DataPlan, type Dataset, type Split } from '@dptrain/data';
import type { Model } from '@dptrain/model';
import { ProtocolError, silentLogger, type Connection, type Logger, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { trainingSplits } from '@dptrain/training';
import { bnStatsLength, packMoments } from '../bn-wire.js';
import type { JobDescription } from '../job.js';
import { modelOf } from '../model-of.js';
import { shardRanges, type ShardRange } from '../shards.js';

export interface WorkerOptions {
  /** An open connection to the coordinator. */
  readonly coordinator: Connection;
  /** Opens a connection to the parameter-server shard at `url`, accepting frames for `paramCount`. */
  readonly connectShard: (url: string, paramCount: number) => Promise<Connection>;
  /** The job's data set, loaded once the job is known. */
  readonly loadDataset: (job: JobDescription) => Promise<Dataset>;
  readonly name: string;
  /** TensorFlow.js backend this process computes on (reported to the coordinator). */
  readonly backend: string;
  /** @default 1000 */
  readonly heartbeatMs?: number;
  /**
   * How long a pull may wait at a shard for its step (the step before must be applied first).
   * @default 600_000
   */
  readonly pullTimeoutMs?: number;
  /** @default silentLogger */
  readonly log?: Logger;
}

/** What a worker did, for logs and tests. */
export interface WorkerReport {
  readonly workerId: number;
  readonly leases: number;
  readonly microBatches: number;
  readonly shutdownReason: string;
}

/**
 * A worker: registers with the coordinator, then for each lease pulls step t from every shard
 * (held there until the step before is applied), computes each leased micro-batch's gradient and
 * batch-norm moments with the model, pushes each shard its slice while the next micro-batch
 * computes, waits for every acknowledgement and reports `leaseDone`. Stateless apart from the data.
 */
export class Worker {
  private readonly log: Logger;
  private readonly queue: MessageOf<'lease'>[] = [];
  private readonly revoked = new Set<number>();
  private wake: (() => void) | undefined;
  private shutdownReason: string | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.log = options.log ?? silentLogger;
  }

  /**
   * Runs until the coordinator says shutdown.
   * @throws ProtocolError when the coordinator or a shard connection fails
   */
  async run(): Promise<WorkerReport> {
    const { coordinator } = this.options;
    // Listen first: the first lease may arrive while the data set is still loading.
    coordinator.on('message', (msg) => {
      if (msg.type === 'lease') this.queue.push(msg);
      else if (msg.type === 'leaseRevoked') this.revoked.add(msg.leaseId);
      else if (msg.type === 'shutdown') this.shutdownReason = msg.reason;
      else return;
      this.wake?.();
    });
    const registered = await coordinator.request({ type: 'register', name: this.options.name, pid: process.pid, backend: this.options.backend }, { timeoutMs: 600_000 });
    const job = registered.config as unknown as JobDescription;
    const urls = registered.shardUrls ?? [];
    const model = modelOf(job);
    const ranges = shardRanges(model.paramCount, job.config.psShards);
    if (urls.length !== ranges.length) {
      throw new ProtocolError('E_MALFORMED', `registered.shardUrls lists ${urls.length} shards, the job has psShards ${ranges.length}`);
    }
    const shards = await Promise.all(urls.map((url) => this.options.connectShard(url, model.paramCount)));
    const dataset = await this.options.loadDataset(job);
    const { train } = trainingSplits(job.config, dataset);
    const plan = createDataPlan({ numSamples: train.count, batchSize: job.config.batchSize, microBatchSize: job.config.microBatchSize, epochs: job.config.epochs, seed: job.config.seed });
    this.log({ level: 'info', event: 'worker-registered', workerId: registered.workerId, shards: urls.length, paramCount: model.paramCount });

    const closed = new Promise<never>((_, reject) => {
      const fail = (what: string) => (code: number, reason: string) => {
        if (this.shutdownReason === undefined) reject(new ProtocolError('E_CLOSED', `${what} closed the connection (${code} ${reason}) before shutdown`));
      };
      coordinator.once('close', fail('the coordinator'));
      shards.forEach((s, i) => s.once('close', fail(`parameter-server shard ${i}`)));
    });
    closed.catch(() => undefined);
    const heartbeat = setInterval(() => {
      void coordinator.send({ type: 'heartbeat', workerId: registered.workerId, generation: registered.generation, sentAtMs: Date.now() });
    }, this.options.heartbeatMs ?? 1000);
    heartbeat.unref();

    const compute = new LeaseComputer(model, train, plan, shards, ranges, registered, this.options.pullTimeoutMs ?? 600_000);
    let leases = 0;
    try {
      for (;;) {
        if (this.shutdownReason !== undefined) break;
        const lease = this.queue.shift();
        if (!lease) {
          await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), closed]);
          continue;
        }
        if (this.revoked.has(lease.leaseId)) continue;
        const started = performance.now();
        const losses = await Promise.race([compute.run(lease), closed]);
        leases++;
        void coordinator.send({ type: 'leaseDone', leaseId: lease.leaseId, step: lease.step, microBatchIds: lease.microBatchIds, losses, computeMs: performance.now() - started });
      }
    } finally {
      clearInterval(heartbeat);
      for (const s of shards) s.close(1000, 'worker done');
      coordinator.close(1000, 'worker done');
      model.dispose();
    }
    return { workerId: registered.workerId, leases, microBatches: compute.microBatches, shutdownReason: this.shutdownReason ?? '' };
  }
}

/** The per-lease work, with every parameter-sized buffer allocated once. */
class LeaseComputer {
  microBatches = 0;
  private readonly params: Float32Array;
  private readonly grad: Float32Array;
  private readonly bnStats: Float32Array;
  private readonly buffers: { x: Float32Array; y: Int32Array };

  constructor(
    private readonly model: Model,
    private readonly train: Split,
    private readonly plan: DataPlan,
    private readonly shards: readonly Connection[],
    private readonly ranges: readonly ShardRange[],
    private readonly identity: ReplyOf<'register'>,
    private readonly pullTimeoutMs: number,
  ) {
    this.params = new Float32Array(model.paramCount);
    this.grad = new Float32Array(model.paramCount);
    this.bnStats = new Float32Array(bnStatsLength(model.bnSpecs));
    const mbs = plan.microBatchSize;
    this.buffers = { x: new Float32Array(mbs * train.features), y: new Int32Array(mbs) };
  }

  /** Pulls, computes and pushes one lease; resolves with the losses once every push is acknowledged. */
  async run(lease: MessageOf<'lease'>): Promise<number[]> {
    const pulled = await Promise.all(this.shards.map((s) => s.request({ type: 'pull', step: lease.step }, { timeoutMs: this.pullTimeoutMs })));
    pulled.forEach((reply, i) => this.params.set(reply.values, this.ranges[i].offset));
    const { microBatches } = this.plan.step(lease.step);
    const acks: Promise<ReplyOf<'push'>>[] = [];
    const losses: number[] = [];
    for (const id of lease.microBatchIds) {
      const mb = microBatches[id];
      const result = this.model.computeGradients(this.params, gather(this.train, mb.indices, this.buffers), this.grad);
      losses.push(result.loss);
      const bn = this.model.bnSpecs.length > 0 ? packMoments(this.model.bnSpecs, result.bnStats, this.bnStats) : undefined;
      // send() copies each slice into its frame before returning, so the buffers are free again.
      this.shards.forEach((shard, s) => {
        const { offset, length } = this.ranges[s];
        acks.push(
          shard.request({
            type: 'push',
            step: lease.step,
            microBatchId: id,
            version: pulled[s].version,
            generation: this.identity.generation,
            offset,
            grads: result.grads.subarray(offset, offset + length),
            ...(s === 0 && bn ? { bnStats: bn } : {}),
            loss: result.loss,
            samples: mb.indices.length,
          }),
        );
      });
      this.microBatches++;
      // Let the pushes reach the sockets while the next micro-batch computes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const ack of await Promise.all(acks)) {
      if (ack.status === 'rejected' || ack.status === 'stale') {
        throw new ProtocolError('E_STALE', `push of step ${ack.step} micro-batch ${ack.microBatchId} was ${ack.status}: ${ack.reason ?? ''}`);
      }
    }
    return losses;
  }
}
