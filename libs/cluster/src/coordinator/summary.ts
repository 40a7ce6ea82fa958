import type { JobConfig } from '@dptrain/config';
import type { JsonValue } from '@dptrain/protocol';
import type { PlanSizes } from '@dptrain/job';
import type { JobState, WorkerState } from '../lifecycle.js';
import type { WorkerEntry } from './worker-entry.js';
import { perStep, type TimeSplit } from './time-split.js';

/**
 * One fault the coordinator saw, and what it did about it (summary.json `faults`). Backup leases
 * are not faults (a straggler is slow, not broken, and nothing is lost): they are counted in
 * `backupLeases` and per worker instead.
 */
export interface FaultRecord {
  readonly kind:
    | 'worker-disconnected'
    | 'worker-timeout'
    | 'lease-expired'
    | 'worker-reconnected'
    | 'worker-quarantined'
    | 'shard-lost'
    | 'shard-restarted'
    | 'step-stalled'
    | 'coordinator-restarted';
  /** The worker concerned; -1 for a shard or the coordinator itself. */
  readonly workerId: number;
  /** The worker's or shard's name. */
  readonly name: string;
  readonly step: number;
  readonly microBatchIds: readonly number[];
  readonly action: string;
  readonly atMs: number;
}

export interface WorkerSummary {
  readonly workerId: number;
  readonly name: string;
  readonly backend: string;
  readonly state: WorkerState;
  readonly leases: number;
  /** Micro-batches its leaseDones reported done (as the worker counts them). */
  readonly microBatches: number;
  /**
   * Of those, micro-batches another worker's leaseDone had reported done first: a straggler that
   * finished what its backup finished, an expired lease's late answer. The workers' microBatches
   * less these add up to the job's micro-batches.
   */
  readonly reportedAgain: number;
  /** Times the worker registered again with its id after losing its connection. */
  readonly reconnects: number;
  /** Backup copies of other workers' straggling leases leased to it. */
  readonly backupLeases: number;
  /** Its leases that ran long enough for a backup copy to go to another worker (it straggled). */
  readonly leasesBackedUp: number;
  /** Milliseconds spent in each phase of its leases. */
  readonly timing: TimeSplit;
}

export interface ClusterResult {
  readonly params: Float32Array;
  readonly bnState: Float32Array | undefined;
  readonly steps: number;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly test: { loss: number; accuracy: number };
  readonly workers: WorkerSummary[];
  readonly faults: FaultRecord[];
  /** Backup copies of straggling leases leased (sync, `backupAfter`); each worker's share is in `workers`. */
  readonly backupLeases: number;
  /** The average worker's milliseconds per step in each phase (time-split.ts `perStep`). */
  readonly timing: TimeSplit;
  /** Async: micro-batches a shard answered `stale` that the coordinator leased again. */
  readonly staleReleased: number;
  /** Each shard's status report at the end (counters; async: the staleness histogram). */
  readonly shards: JsonValue[];
  /**
   * Steady-state training throughput: the steps closed after the first 10% (at least one), each
   * timed from the close of the step before with evaluation pauses taken out, as the median of 5
   * rounds (steady-rate.ts); NaN when the job is too short.
   */
  readonly steadySamplesPerSecond: number;
}

/** What the step closer knows at the end; `resultOf` adds what the rest of the coordinator counted. */
export type FinalSteps = Pick<ClusterResult, 'params' | 'bnState' | 'steps' | 'epochs' | 'trainLoss' | 'test' | 'steadySamplesPerSecond'>;

/** The counters of the coordinator's other parts that the status and the result report. */
export interface Counters {
  readonly workers: Iterable<WorkerEntry>;
  readonly faults: FaultRecord[];
  readonly staleReleased: number;
  readonly shards: JsonValue[];
}

/** In id order (workers that asked for ids may have registered in another). */
export function workerSummaries(workers: Iterable<WorkerEntry>): WorkerSummary[] {
  return [...workers]
    .sort((a, b) => a.id - b.id)
    .map((w) => ({
      workerId: w.id,
      name: w.name,
      backend: w.backend,
      state: w.state,
      leases: w.leases,
      microBatches: w.microBatches,
      reportedAgain: w.reportedAgain,
      reconnects: w.reconnects,
      backupLeases: w.backupLeases,
      leasesBackedUp: w.leasesBackedUp,
      timing: { ...w.timing },
    }));
}

export function backupLeasesOf(workers: Iterable<WorkerEntry>): number {
  return [...workers].reduce((n, w) => n + w.backupLeases, 0);
}

/** What GET /status shows besides the counters. */
export interface StatusFacts extends Counters {
  readonly state: JobState;
  readonly step: number;
  readonly plan: PlanSizes;
  readonly config: Pick<JobConfig, 'mode' | 'staleness'>;
  readonly shardVersions: number[];
  readonly shardUrls: readonly (string | undefined)[];
}

/** JSON for GET /status (and the coordinator's statusReport). */
export function statusOf(facts: StatusFacts): { [key: string]: JsonValue } {
  // When each worker was last heard of, on the membership's clock (ms since 1970 unless a test
  // injects one): the dashboard's "last heartbeat". Live only: summary.json leaves it out.
  const lastSeen = new Map([...facts.workers].map((w) => [w.id, w.lastSeen]));
  const workers = workerSummaries(facts.workers).map((w) => ({ ...w, lastSeenAt: lastSeen.get(w.workerId)! }));
  return {
    state: facts.state,
    step: facts.step,
    totalSteps: facts.plan.totalSteps,
    stepsPerEpoch: facts.plan.stepsPerEpoch,
    microBatchesPerStep: facts.plan.microBatchesPerStep,
    shardVersions: facts.shardVersions,
    shardUrls: facts.shardUrls.map((u) => u ?? null),
    mode: facts.config.mode,
    staleness: facts.config.staleness,
    staleReleased: facts.staleReleased,
    shards: facts.shards,
    timingPerStepMs: perStep(
      workers.map((w) => w.timing),
      facts.step,
    ) as unknown as JsonValue,
    workers: workers as unknown as JsonValue,
    faults: facts.faults as unknown as JsonValue,
    backupLeases: backupLeasesOf(facts.workers),
  };
}

export function resultOf(final: FinalSteps, counters: Counters): ClusterResult {
  const workers = workerSummaries(counters.workers);
  return {
    params: final.params,
    bnState: final.bnState,
    steps: final.steps,
    epochs: final.epochs,
    trainLoss: final.trainLoss,
    test: final.test,
    workers,
    faults: counters.faults,
    backupLeases: backupLeasesOf(counters.workers),
    timing: perStep(
      workers.map((w) => w.timing),
      final.steps,
    ),
    staleReleased: counters.staleReleased,
    shards: counters.shards,
    steadySamplesPerSecond: final.steadySamplesPerSecond,
  };
}
