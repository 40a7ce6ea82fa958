import type { JobConfig } from '@dptrain/config';
import type { Logger } from '@dptrain/log';
import type { PlanSizes } from '@dptrain/job';
import type { LeaseEntry } from './leases.js';
import type { Roster, WorkerEntry } from './worker-entry.js';
import type { Refusals } from './refusals.js';
import type { StepLedger } from './step-ledger.js';

export interface PolicyParts {
  readonly ledger: StepLedger;
  readonly plan: PlanSizes;
  readonly config: Pick<JobConfig, 'backupAfter' | 'backupMinMs'>;
  readonly roster: Roster;
  readonly refusals: Refusals;
  /** Leases `ids` of `step` to `worker`, whose pull waits for `modelVersion`; a backup copy names the lease it copies. */
  readonly lease: (worker: WorkerEntry, step: number, ids: number[], modelVersion: number, backupOf?: LeaseEntry) => void;
  /** The lowest version the shards reported. */
  readonly shardVersion: () => number;
  /** Leasing is allowed now: the job is training and not paused for an evaluation. */
  readonly canLease: () => boolean;
  /** The first step to lease (a restarted coordinator's resume point, else 0). */
  readonly firstStep: number;
  readonly log: Logger;
}

/**
 * Which micro-batches go to which idle worker, and when the next step opens: the one thing the
 * two modes do differently (CLUSTER.md). The rest of the coordinator calls these hooks without
 * knowing the mode. The optional ones keep the synchronous step being leased in line with the
 * ledger; a policy that opens steps on demand leaves them out. `closed` is always the lowest step
 * not yet complete.
 */
export interface LeasePolicy {
  /** Leases pending micro-batches to `idle` (not empty; leasing is allowed). */
  assign(idle: readonly WorkerEntry[], closed: number): void;
  /** What a pull of the parameters after `steps` steps asks each shard for. */
  pullAt(steps: number): { step: number } | { minVersion: number };
  /** A shard registering at `version` has lost steps the job already closed. */
  lostSteps(version: number, closed: number): boolean;
  /** The first worker joined: training starts. */
  start?(): void;
  /** Leasing moves on past steps whose micro-batches are all done. */
  advance?(closed: number): void;
  /** A shard reported `step` applied (a restarted coordinator may hear of steps it has not opened). */
  applied?(step: number, closed: number): void;
  /** A shard restart or a stall made micro-batches of the open steps pending again. */
  reopened?(closed: number): void;
  /** An epoch's evaluation after `steps` steps is over. */
  evaluated?(steps: number): void;
  /** A lease of `step` finished micro-batches after `ms`. */
  leaseFinished?(step: number, ms: number): void;
  stepClosed?(step: number): void;
  stop?(): void;
}

export interface LeasePolicyKind {
  new (parts: PolicyParts): LeasePolicy;
  /** The ledger's gradient-norm rule (step-ledger.ts): one update per micro-batch, or one per step. */
  readonly perMicroBatchUpdates: boolean;
  /** A restarted coordinator can continue the job from its run folder (`--resume`). */
  readonly resumable: boolean;
}
