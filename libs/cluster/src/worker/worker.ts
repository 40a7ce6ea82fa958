import { parseJobDescription, planOf } from '@dptrain/job';
import { ProtocolError, reconnecting, unrefTimer, type Connection, type MessageOf, type ReplyOf } from '@dptrain/protocol';
import { silentLogger, type Logger } from '@dptrain/log';
import { trainingSplits } from '@dptrain/training';
import type { DataPlan, Split } from '@dptrain/data';
import { modelOf } from '../model-of.js';
import { shardRanges } from '../shards.js';
import { abortable } from './abortable.js';
import { InjectedFaults } from './injected-faults.js';
import { LeaseComputer, type LeaseResult } from './lease-computer.js';
import { checkLeaseInPlan } from './lease-range.js';
import { ReceivedSamples, emptyTrainingSplit } from './received-samples.js';
import type { WorkerOptions, WorkerProgress, WorkerReport } from './worker-options.js';

export type { WorkerData, WorkerOptions, WorkerProgress, WorkerReport } from './worker-options.js';

/**
 * A worker: registers with the coordinator, then for each lease pulls parameters from every shard,
 * computes each leased micro-batch's gradient and batch-norm moments, pushes each shard its slice,
 * waits for every acknowledgement and reports `leaseDone` with the time split. Stateless apart
 * from the data.
 *
 * Connections are re-opened with back-off when they drop before shutdown: the coordinator's by
 * registering again with the worker's id (leases queued on the old connection are dropped: the
 * coordinator re-leases them), a shard's by retrying the lease in hand on the new connection
 * (recomputing a micro-batch gives the same bits and the shard keeps the first push).
 *
 * `leaseRevoked` aborts its lease at once, wherever it waits (a pull held at a shard, pushes, a
 * shard being reconnected): the worker answers it with an empty `leaseDone` and takes the next.
 * A micro-batch a shard refuses as poisoned goes into `leaseDone.refused`; the rest of the lease
 * goes on.
 *
 * Without a data set (`samplesFromCoordinator`) each lease brings its samples; a lease whose
 * samples are missing or are not its micro-batches' is refused (an error to the coordinator, an
 * empty leaseDone) and the worker takes the next.
 */
export class Worker {
  private readonly log: Logger;
  /** Leases to compute, each with the coordinator connection it came on. */
  private readonly queue: { readonly lease: MessageOf<'lease'>; readonly from: Connection }[] = [];
  private readonly revoked = new Set<number>();
  /** The lease being computed, and how to abort it. */
  private running: { readonly leaseId: number; readonly abort: AbortController } | undefined;
  /** Reconnections of lost shards in progress, by shard index; they outlive an aborted lease. */
  private readonly reopening = new Map<number, Promise<void>>();
  private wake: (() => void) | undefined;
  private shutdownReason: string | undefined;
  private coordinator: Connection | undefined;
  private identity: ReplyOf<'register'> | undefined;
  private reconnectingCoordinator: Promise<void> | undefined;
  private fatal: Error | undefined;
  private reconnects = 0;
  private leases = 0;
  private reported = 0;

  constructor(private readonly options: WorkerOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** What it did so far, read by its metrics while it runs. */
  progress(): WorkerProgress {
    return { leases: this.leases, microBatches: this.reported, reconnects: this.reconnects };
  }

  /**
   * Stops as a shutdown would, on this side (a tab's Stop button): the lease in hand is abandoned
   * and the connections close, which the coordinator takes for a worker lost (it leases again
   * what this one held). run() then returns with `reason`.
   */
  stop(reason: string): void {
    this.shutdownReason ??= reason;
    this.running?.abort.abort();
    this.wake?.();
  }

  /**
   * Runs until the coordinator says shutdown.
   * @throws ProtocolError when a connection cannot be opened again within the back-off's attempts
   */
  async run(): Promise<WorkerReport> {
    await this.joinCoordinator();
    const registered = this.identity!;
    const job = parseJobDescription(registered.config);
    const urls = registered.shardUrls ?? [];
    const model = modelOf(job);
    const ranges = shardRanges(model.paramCount, job.config.psShards);
    if (urls.length !== ranges.length) {
      throw new ProtocolError('E_MALFORMED', `registered.shardUrls lists ${urls.length} shards, the job has psShards ${ranges.length}`);
    }
    const shards = await Promise.all(urls.map((url) => this.withBackoff(() => this.options.connectShard(url, model.paramCount))));
    const train: Split = this.options.samplesFromCoordinator ? emptyTrainingSplit(job) : trainingSplits(job.config, await this.options.loadDataset(job)).train;
    const plan = planOf(job.config, train.count);
    const received = this.options.samplesFromCoordinator ? new ReceivedSamples(train, plan, job.numClasses) : undefined;
    this.log({
      level: 'info',
      event: 'worker-registered',
      workerId: registered.workerId,
      shards: urls.length,
      paramCount: model.paramCount,
      microBatchSize: job.config.microBatchSize,
      ...(received ? { samplesFromCoordinator: true } : {}),
    });

    const heartbeat = setInterval(() => {
      const c = this.coordinator;
      if (c?.isOpen && this.identity)
        void c.send({ type: 'heartbeat', workerId: this.identity.workerId, generation: this.identity.generation, sentAtMs: Date.now() });
    }, this.options.heartbeatMs ?? job.config.heartbeatMs);
    unrefTimer(heartbeat);

    const compute = new LeaseComputer(model, train, plan, shards, ranges, {
      async: job.config.mode === 'async',
      presum: job.config.maxGradNorm === undefined,
      pullTimeoutMs: this.options.pullTimeoutMs ?? 600_000,
      faults: new InjectedFaults(this.options.fault, this.options.faultWait),
      log: this.log,
      ...(this.options.spans ? { spans: this.options.spans } : {}),
    });
    let idleSince: number | undefined;
    try {
      for (;;) {
        if (this.fatal) throw this.fatal;
        if (this.shutdownReason !== undefined) break;
        const next = this.queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const lease = next.lease;
        const waitMs = idleSince === undefined ? 0 : performance.now() - idleSince;
        compute.generation = this.identity!.generation;
        const abort = new AbortController();
        this.running = { leaseId: lease.leaseId, abort };
        if (this.revoked.has(lease.leaseId)) abort.abort();
        let ran: LeaseResult | undefined;
        try {
          if (!this.refusedLease(plan, received, next)) ran = await this.runLease(compute, lease, urls, model.paramCount, shards, abort.signal);
        } finally {
          this.running = undefined;
        }
        // Overtaken, revoked or refused leases are answered too (with no micro-batches), so the coordinator frees this worker at once.
        const result = ran ?? { ids: [], losses: [], stale: [], refused: [], computeMs: 0, pullMs: 0, pushMs: 0 };
        this.leases++;
        idleSince = performance.now();
        if (this.coordinator !== next.from) {
          // The connection it came on is gone: that coordinator leased it again, and a restarted one
          // may have given its id to another lease of ours.
          this.log({ level: 'info', event: 'lease-done-dropped', leaseId: lease.leaseId, step: lease.step, reason: 'its coordinator connection was replaced' });
          continue;
        }
        void this.coordinator.send({
          type: 'leaseDone',
          leaseId: lease.leaseId,
          step: lease.step,
          microBatchIds: result.ids,
          losses: result.losses,
          ...(result.stale.length > 0 ? { stale: result.stale } : {}),
          ...(result.refused.length > 0 ? { refused: result.refused } : {}),
          computeMs: result.computeMs,
          pullMs: result.pullMs,
          pushMs: result.pushMs,
          waitMs,
        });
        this.reported += result.ids.length;
      }
    } finally {
      clearInterval(heartbeat);
      for (const s of shards) s.close(1000, 'worker done');
      this.coordinator?.close(1000, 'worker done');
      model.dispose();
    }
    return {
      workerId: registered.workerId,
      leases: this.leases,
      microBatches: compute.microBatches,
      reconnects: this.reconnects,
      shutdownReason: this.shutdownReason ?? '',
    };
  }

  /**
   * Runs one lease; when a shard connection closes under it, reconnects that shard and runs the
   * lease again. Returns undefined when the lease was revoked (`signal` aborted), or overtaken (its
   * step was applied from other workers' pushes, so the shard answers the pull E_STALE).
   */
  private async runLease(
    compute: LeaseComputer,
    lease: MessageOf<'lease'>,
    urls: readonly string[],
    paramCount: number,
    shards: Connection[],
    signal: AbortSignal,
  ): Promise<LeaseResult | undefined> {
    for (;;) {
      try {
        signal.throwIfAborted();
        return await compute.run(lease, signal);
      } catch (error) {
        if (signal.aborted) {
          this.log({ level: 'info', event: 'lease-abandoned', leaseId: lease.leaseId, step: lease.step });
          return undefined;
        }
        // The step was applied without us (the lease was re-leased while we were slow or away): nothing left to do.
        if (error instanceof ProtocolError && error.code === 'E_STALE') {
          this.log({ level: 'info', event: 'lease-overtaken', leaseId: lease.leaseId, step: lease.step, message: error.message });
          return undefined;
        }
        if (!(error instanceof ProtocolError) || error.code !== 'E_CLOSED' || this.shutdownReason !== undefined) throw error;
        try {
          for (let s = 0; s < shards.length; s++) {
            if (!shards[s].isOpen) await abortable(this.reopenShard(s, lease.leaseId, urls[s], paramCount, shards), signal);
          }
        } catch (reopenError) {
          if (!signal.aborted) throw reopenError;
          this.log({ level: 'info', event: 'lease-abandoned', leaseId: lease.leaseId, step: lease.step, while: 'reconnecting a shard' });
          return undefined;
        }
      }
    }
  }

  /**
   * Reconnects shard `s` into `shards[s]`, once however many leases wait for it: a lease revoked
   * meanwhile stops waiting, the reconnection goes on for the next lease. Failing for good (the
   * back-off's attempts spent) is fatal to the worker.
   */
  private reopenShard(s: number, leaseId: number, url: string, paramCount: number, shards: Connection[]): Promise<void> {
    let reopening = this.reopening.get(s);
    if (reopening) return reopening;
    this.log({ level: 'warn', event: 'shard-lost', shard: s, url, leaseId });
    reopening = this.withBackoff(() => this.options.connectShard(url, paramCount)).then(
      (connection) => {
        this.reopening.delete(s);
        shards[s] = connection;
        this.reconnects++;
        this.log({ level: 'info', event: 'shard-reconnected', shard: s, url });
      },
      (error: unknown) => {
        this.reopening.delete(s);
        this.fatal ??= error instanceof Error ? error : new Error(String(error));
        this.wake?.();
        throw error;
      },
    );
    // A lease that stopped waiting leaves no one to catch the failure; `fatal` carries it.
    reopening.catch(() => undefined);
    this.reopening.set(s, reopening);
    return reopening;
  }

  /**
   * Checks a lease against the job's plan and, on a worker without the data set, writes its
   * samples into the training split. Returns true when the lease names a step or micro-batch
   * outside the plan, or its samples are missing or wrong: the lease is refused (the coordinator
   * gets the error and leases its micro-batches again) and nothing was written or computed.
   */
  private refusedLease(plan: DataPlan, received: ReceivedSamples | undefined, { lease, from }: { lease: MessageOf<'lease'>; from: Connection }): boolean {
    try {
      // Writing the samples checks the plan first.
      if (received) received.write(lease);
      else checkLeaseInPlan(lease, plan);
      return false;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.log({ level: 'warn', event: 'lease-refused', leaseId: lease.leaseId, step: lease.step, code: error.code, message: error.message });
      void from.replyError(lease, error);
      return true;
    }
  }

  private revoke(msg: MessageOf<'leaseRevoked'>): void {
    this.revoked.add(msg.leaseId);
    const running = this.running;
    this.log({ level: 'info', event: 'lease-revoked', leaseId: msg.leaseId, reason: msg.reason, running: running?.leaseId === msg.leaseId });
    if (running?.leaseId === msg.leaseId) running.abort.abort();
  }

  /** Connects to the coordinator and registers (again, with the id it held, after a reconnect). */
  private async joinCoordinator(): Promise<void> {
    const connection = await this.withBackoff(() => this.options.connectCoordinator());
    connection.on('message', (msg) => {
      if (msg.type === 'lease') this.queue.push({ lease: msg, from: connection });
      else if (msg.type === 'leaseRevoked') this.revoke(msg);
      else if (msg.type === 'shutdown') {
        this.shutdownReason = msg.reason;
        this.running?.abort.abort();
      } else return;
      this.wake?.();
    });
    connection.once('close', (code, reason) => {
      if (this.shutdownReason !== undefined || connection !== this.coordinator) return;
      this.log({ level: 'warn', event: 'coordinator-lost', code, reason });
      this.reconnectingCoordinator ??= this.joinCoordinator().then(
        () => {
          this.reconnects++;
          this.reconnectingCoordinator = undefined;
        },
        (error: unknown) => {
          this.fatal = error instanceof Error ? error : new Error(String(error));
          this.wake?.();
        },
      );
    });
    this.coordinator = connection;
    // Leases of the old connection were re-leased by the coordinator when it lost us. Their
    // revocations go too: a restarted coordinator numbers its leases from 0 again, and one of its
    // leases must not be taken for an earlier coordinator's revoked lease of the same id.
    this.queue.length = 0;
    this.revoked.clear();
    const previous = this.identity;
    const asked = previous?.workerId ?? this.options.workerId;
    const registered = await connection.request(
      {
        type: 'register',
        name: this.options.name,
        pid: process.pid,
        backend: this.options.backend,
        ...(asked !== undefined ? { workerId: asked } : {}),
        ...(previous?.session ? { session: previous.session } : {}),
        ...(this.options.samplesFromCoordinator ? { samples: true as const } : {}),
      },
      { timeoutMs: 600_000 },
    );
    if (asked !== undefined && registered.workerId !== asked) {
      this.log({
        level: 'warn',
        event: 'worker-new-id',
        asked,
        now: registered.workerId,
        message: `asked for worker id ${asked} and got ${registered.workerId}: the coordinator knows another worker, or an earlier process of this one, by that id`,
      });
    }
    this.identity = registered;
    this.log({ level: 'info', event: 'coordinator-registered', workerId: registered.workerId, generation: registered.generation });
  }

  private withBackoff(connectFn: () => Promise<Connection>): Promise<Connection> {
    const options = { initialMs: 100, maxMs: 5_000, maxAttempts: 30, ...this.options.reconnect };
    return reconnecting(connectFn, {
      ...options,
      onRetry: (info) => {
        this.log({ level: 'warn', event: 'reconnecting', attempt: info.attempt, delayMs: info.delayMs, code: info.error.code });
        options.onRetry?.(info);
      },
    });
  }
}
