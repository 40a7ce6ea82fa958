import { stateMachine } from './state-machine.js';

export { TransitionError } from './state-machine.js';

/**
 * The cluster's lifecycle states. Each enum lists its legal transitions where it is declared, and
 * `transition` refuses any other, so a wrong move fails loudly instead of corrupting the schedule.
 * The coordinator owns every transition of workers, leases and the job.
 */

/**
 * A worker, as the coordinator sees it.
 *   Idle → Busy (leased) | Dead (disconnected, heartbeat missed)
 *   Busy → Idle (lease done) | Dead
 *   Dead → Idle (it reconnected and registered again with its id; its generation grows, and the
 *          lease it held was already re-leased when it was marked dead)
 *   Idle | Busy → Quarantined (its pushes were refused as poisoned quarantineAfter times; it is
 *          told to shut down and never leased again). Quarantined is final.
 */
export enum WorkerState {
  Idle = 'idle',
  Busy = 'busy',
  Dead = 'dead',
  Quarantined = 'quarantined',
}

/**
 * A lease of micro-batches of one step.
 *   Active → Done (leaseDone received) | Expired (deadline passed, ids re-leased) | Lost (its worker died, ids re-leased)
 *          | Revoked (its work is moot: a backup copy finished first, or a shard restarted and the step is leased again)
 *   Expired | Revoked → Done (a late leaseDone still completes its ids: the shards keep the first push)
 *   Done and Lost are final.
 */
export enum LeaseState {
  Active = 'active',
  Done = 'done',
  Expired = 'expired',
  Lost = 'lost',
  Revoked = 'revoked',
}

/**
 * The job.
 *   Waiting (for shards and a first worker) → Training | Failed
 *   Training → Finishing (last step applied; final evaluation and run folder) | Recovering | Failed
 *   Recovering (a parameter-server shard was lost; leasing paused until it registers again) → Training | Failed
 *   Finishing → Done | Failed
 *   Done and Failed are final.
 */
export enum JobState {
  Waiting = 'waiting',
  Training = 'training',
  Recovering = 'recovering',
  Finishing = 'finishing',
  Done = 'done',
  Failed = 'failed',
}

const OWNER = "the coordinator's scheduling";

interface States {
  worker: WorkerState;
  lease: LeaseState;
  job: JobState;
}

const MOVES: { readonly [K in keyof States]: (from: States[K], to: States[K]) => States[K] } = {
  worker: stateMachine<WorkerState>(
    'worker',
    {
      [WorkerState.Idle]: [WorkerState.Busy, WorkerState.Dead, WorkerState.Quarantined],
      [WorkerState.Busy]: [WorkerState.Idle, WorkerState.Dead, WorkerState.Quarantined],
      [WorkerState.Dead]: [WorkerState.Idle],
      [WorkerState.Quarantined]: [],
    },
    OWNER,
  ),
  lease: stateMachine<LeaseState>(
    'lease',
    {
      [LeaseState.Active]: [LeaseState.Done, LeaseState.Expired, LeaseState.Lost, LeaseState.Revoked],
      [LeaseState.Expired]: [LeaseState.Done],
      [LeaseState.Revoked]: [LeaseState.Done],
      [LeaseState.Done]: [],
      [LeaseState.Lost]: [],
    },
    OWNER,
  ),
  job: stateMachine<JobState>(
    'job',
    {
      [JobState.Waiting]: [JobState.Training, JobState.Failed],
      [JobState.Training]: [JobState.Finishing, JobState.Recovering, JobState.Failed],
      [JobState.Recovering]: [JobState.Training, JobState.Failed],
      [JobState.Finishing]: [JobState.Done, JobState.Failed],
      [JobState.Done]: [],
      [JobState.Failed]: [],
    },
    OWNER,
  ),
};

/**
 * Returns `to` when `from → to` is legal for `kind`.
 * @throws TransitionError naming both states and the legal targets
 */
export function transition<K extends keyof States>(kind: K, from: States[K], to: States[K]): States[K] {
  return MOVES[kind](from, to);
}
