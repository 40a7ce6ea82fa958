import type { Dataset } from '@dptrain/data';
import { ProtocolError, createMemoryPair, type Connection, type JsonValue, type MessageOf } from '@dptrain/protocol';
import { type LogRecord } from '@dptrain/log';
import type { FaultInjection } from '../fault-injection.js';
import type { JobDescription } from '@dptrain/job';
import { trainingSplits } from '@dptrain/training';
import { LeaseSamples, type SampleRows } from '../coordinator/lease-samples.js';
import { modelOf } from '../model-of.js';
import { ParameterServer } from '../parameter-server/parameter-server.js';
import type { Wait } from './injected-faults.js';
import { Worker, type WorkerProgress, type WorkerReport } from './worker.js';

/** Items in arrival order, for a test to await one by one or by content. */
export class Inbox<T> {
  readonly all: T[] = [];
  private taken = 0;
  private readonly waiters: { match: (item: T, index: number) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    const index = this.all.push(item) - 1;
    for (const waiter of this.waiters.filter((w) => w.match(item, index))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    }
  }

  /** The next item not taken yet, now or when it comes. */
  next(): Promise<T> {
    const wanted = this.taken++;
    return this.first((_, index) => index === wanted);
  }

  /** The first item, past or future, that `match` accepts. */
  first(match: (item: T, index: number) => boolean): Promise<T> {
    const found = this.all.findIndex(match);
    if (found >= 0) return Promise.resolve(this.all[found]);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

export interface WorkerRigOptions {
  readonly fault?: FaultInjection;
  readonly faultWait?: Wait;
  /** Passed to the worker as its override; leave it out to use the job's heartbeatMs. */
  readonly heartbeatMs?: number;
  /** What the coordinator sends as the job in `registered` (default: `job`, as a coordinator would). */
  readonly sentJob?: JsonValue;
  /** The worker has no data set: leases carry their samples from the dataset's training split, as a coordinator's do. */
  readonly samplesFromCoordinator?: boolean;
}

/**
 * One real Worker in this process, driven by the test playing the coordinator, against one real
 * ParameterServer shard; every connection is an in-memory pair through the real codec and
 * validator. The test sends leases and revocations and reads what the worker answers.
 */
export interface WorkerRig {
  readonly ps: ParameterServer;
  readonly leaseDone: Inbox<MessageOf<'leaseDone'>>;
  readonly heartbeats: Inbox<MessageOf<'heartbeat'>>;
  /** Errors the worker answered the coordinator with (a refused lease). */
  readonly errors: Inbox<MessageOf<'error'>>;
  /** Register messages as the coordinator received them. */
  readonly registers: Inbox<MessageOf<'register'>>;
  /** Pulls as the shard received them. */
  readonly pulls: Inbox<MessageOf<'pull'>>;
  readonly logs: Inbox<LogRecord>;
  /** The shard's end of each worker connection, newest last. */
  readonly toShard: Connection[];
  /** While true, the worker's attempts to (re)connect to the shard fail with E_CONNECT. */
  shardDown: boolean;
  /**
   * Sends a lease of `step` for `ids`; returns its id. A worker without the data set gets the
   * lease's samples, or `rows` instead when given ('none': no samples at all).
   */
  lease(step: number, ids: number[], rows?: SampleRows | 'none'): number;
  revoke(leaseId: number): void;
  /** Drops the coordinator connection as a coordinator's crash would; the next one numbers its leases from 0 again. Resolves once the worker registered anew. */
  restartCoordinator(): Promise<void>;
  /** Says shutdown and resolves with the worker's report. */
  stop(): Promise<WorkerReport>;
  /** What the worker did so far (Worker.progress). */
  progress(): WorkerProgress;
}

/** Starts the worker; resolves once it has registered and connected to the shard, ready for leases. */
export async function startWorkerRig(job: JobDescription, dataset: Dataset, options: WorkerRigOptions = {}): Promise<WorkerRig> {
  const model = modelOf(job);
  const paramCount = model.paramCount;
  model.dispose();
  const ps = new ParameterServer({ job, shard: 0 });
  const coordinatorEnds: Connection[] = [];
  let nextLeaseId = 0;
  const samples = options.samplesFromCoordinator ? new LeaseSamples(trainingSplits(job.config, dataset).train, job.config) : undefined;
  const rig: WorkerRig = {
    ps,
    leaseDone: new Inbox(),
    heartbeats: new Inbox(),
    errors: new Inbox(),
    registers: new Inbox(),
    pulls: new Inbox(),
    logs: new Inbox(),
    toShard: [],
    shardDown: false,
    lease(step, ids, rows) {
      const leaseId = nextLeaseId++;
      const carried = rows === 'none' ? undefined : (rows ?? samples?.rows(step, ids));
      void coordinatorEnds.at(-1)!.send({ type: 'lease', leaseId, step, microBatchIds: ids, modelVersion: step, deadlineMs: 600_000, ...carried });
      return leaseId;
    },
    revoke(leaseId) {
      void coordinatorEnds.at(-1)!.send({ type: 'leaseRevoked', leaseId, reason: 'test: revoked' });
    },
    async restartCoordinator() {
      const before = rig.logs.all.length;
      nextLeaseId = 0;
      coordinatorEnds.at(-1)!.close(1006, 'test: coordinator crashed');
      await rig.logs.first((r, i) => i >= before && r.event === 'coordinator-registered');
    },
    async stop() {
      await coordinatorEnds.at(-1)!.send({ type: 'shutdown', reason: 'test over' });
      return run;
    },
    progress: () => worker.progress(),
  };
  const worker = new Worker({
    name: 'worker-under-test',
    backend: 'cpu',
    log: (record) => rig.logs.push(record),
    reconnect: { initialMs: 5, maxMs: 20, maxAttempts: 1_000 },
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.fault ? { fault: options.fault } : {}),
    ...(options.faultWait ? { faultWait: options.faultWait } : {}),
    connectCoordinator: async () => {
      const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount } }, b: { role: 'coordinator', validateOptions: { paramCount } } });
      pair.b.on('message', (msg) => {
        if (msg.type === 'register') {
          rig.registers.push(msg);
          void pair.b.reply(msg, {
            type: 'registered',
            workerId: 0,
            generation: 0,
            config: options.sentJob ?? (job as unknown as JsonValue),
            shardUrls: ['memory://ps-0'],
          });
        } else if (msg.type === 'leaseDone') rig.leaseDone.push(msg);
        else if (msg.type === 'heartbeat') rig.heartbeats.push(msg);
        else if (msg.type === 'error') rig.errors.push(msg);
      });
      coordinatorEnds.push(pair.b);
      return pair.a;
    },
    connectShard: async (_url, count) => {
      if (rig.shardDown) throw new ProtocolError('E_CONNECT', 'test: the shard is down');
      const pair = createMemoryPair({
        a: { role: 'worker', validateOptions: { paramCount: count } },
        b: { role: 'ps', validateOptions: ps.validateOptions(count) },
      });
      pair.b.on('message', (msg) => {
        if (msg.type === 'pull') rig.pulls.push(msg);
      });
      ps.attach(pair.b);
      rig.toShard.push(pair.b);
      return pair.a;
    },
    ...(options.samplesFromCoordinator ? { samplesFromCoordinator: true as const } : { loadDataset: async () => dataset }),
  });
  const run = worker.run();
  // Leases sent before registration would be dropped, as a worker drops those of an old connection.
  await Promise.race([rig.logs.first((r) => r.event === 'worker-registered'), run]);
  return rig;
}
