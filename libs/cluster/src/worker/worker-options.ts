import type { Dataset } from '@dptrain/data';
import type { JobDescription } from '@dptrain/job';
import type { Logger, Spans } from '@dptrain/log';
import type { Connection, ReconnectOptions } from '@dptrain/protocol';
import type { FaultInjection } from '../fault-injection.js';
import type { Wait } from './injected-faults.js';

/** Where a worker's training samples come from: its own copy of the data set, or the coordinator. */
export type WorkerData =
  | {
      /** The job's data set, loaded once the job is known. */
      readonly loadDataset: (job: JobDescription) => Promise<Dataset>;
      readonly samplesFromCoordinator?: false;
    }
  | {
      /**
       * No data set here: the worker registers with `samples`, and writes the samples each lease
       * carries into an empty training split at the plan's indices before computing it. Its
       * coordinator connection must accept frames of SAMPLES_MAX_PAYLOAD.
       */
      readonly samplesFromCoordinator: true;
      readonly loadDataset?: undefined;
    };

export type WorkerOptions = WorkerSettings & WorkerData;

export interface WorkerSettings {
  /** Opens a connection to the coordinator (one attempt; the worker retries with back-off). */
  readonly connectCoordinator: () => Promise<Connection>;
  /** Opens a connection to the parameter-server shard at `url`, accepting frames for `paramCount` (one attempt). */
  readonly connectShard: (url: string, paramCount: number) => Promise<Connection>;
  readonly name: string;
  /**
   * The id to ask for at the first registration (DPTRAIN_WORKER_ID; dptrain local gives worker-k
   * id k, so names and ids agree). The coordinator grants it when no other worker holds it.
   * @default whatever id the coordinator gives
   */
  readonly workerId?: number;
  /** TensorFlow.js backend this process computes on (reported to the coordinator). */
  readonly backend: string;
  /** Overrides the job's heartbeatMs (tests). @default job.config.heartbeatMs */
  readonly heartbeatMs?: number;
  /**
   * How long a pull may wait at a shard for its step (the step before must be applied first).
   * @default 600_000
   */
  readonly pullTimeoutMs?: number;
  /**
   * Back-off for connecting and reconnecting to the coordinator and the shards.
   * @default { initialMs: 100, maxMs: 5_000, maxAttempts: 30 }
   */
  readonly reconnect?: ReconnectOptions;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Where the lease, pull, compute and push spans go (metrics, trace). @default noSpans */
  readonly spans?: Spans;
  /** Faults to inject into this worker (DPTRAIN_FAULT, for the chaos suite). @default none */
  readonly fault?: FaultInjection;
  /** The wait of the slow fault; tests pass one that records instead of sleeping. @default a timer */
  readonly faultWait?: Wait;
}

/** What a worker did so far, as its metrics read it while it runs. */
export interface WorkerProgress {
  /** Leases finished: done, given up, revoked or overtaken. */
  readonly leases: number;
  /** Micro-batches reported done to the coordinator (in leaseDone): the coordinator's count of this worker's. */
  readonly microBatches: number;
  /** Times a lost coordinator or shard connection was opened again. */
  readonly reconnects: number;
}

/** What a worker did, for logs and tests. */
export interface WorkerReport {
  readonly workerId: number;
  readonly leases: number;
  readonly microBatches: number;
  /** Times a lost coordinator or shard connection was opened again. */
  readonly reconnects: number;
  readonly shutdownReason: string;
}
