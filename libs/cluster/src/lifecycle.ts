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

const LEGAL: { readonly [from: string]: readonly string[] } = {
  [`worker:${WorkerState.Idle}`]: [WorkerState.Busy, WorkerState.Dead, WorkerState.Quarantined],
  [`worker:${WorkerState.Busy}`]: [WorkerState.Idle, WorkerState.Dead, WorkerState.Quarantined],
  [`worker:${WorkerState.Dead}`]: [WorkerState.Idle],
  [`worker:${WorkerState.Quarantined}`]: [],
  [`lease:${LeaseState.Active}`]: [LeaseState.Done, LeaseState.Expired, LeaseState.Lost, LeaseState.Revoked],
  [`lease:${LeaseState.Expired}`]: [LeaseState.Done],
  [`lease:${LeaseState.Revoked}`]: [LeaseState.Done],
  [`lease:${LeaseState.Done}`]: [],
  [`lease:${LeaseState.Lost}`]: [],
  [`job:${JobState.Waiting}`]: [JobState.Training, JobState.Failed],
  [`job:${JobState.Training}`]: [JobState.Finishing, JobState.Recovering, JobState.Failed],
  [`job:${JobState.Recovering}`]: [JobState.Training, JobState.Failed],
  [`job:${JobState.Finishing}`]: [JobState.Done, JobState.Failed],
  [`job:${JobState.Done}`]: [],
  [`job:${JobState.Failed}`]: [],
};

export class TransitionError extends Error {
  readonly code = 'E_TRANSITION';
  constructor(kind: string, from: string, to: string) {
    super(`illegal ${kind} transition ${from} → ${to} (legal from ${from}: ${LEGAL[`${kind}:${from}`]?.join(', ') || 'none'}); this is a bug in the coordinator's scheduling`);
    this.name = 'TransitionError';
  }
}

/**
 * Returns `to` when `from → to` is legal for `kind`.
 * @throws TransitionError naming both states and the legal targets
 */
export function transition<S extends string>(kind: 'worker' | 'lease' | 'job', from: S, to: S): S {
  if (!LEGAL[`${kind}:${from}`]?.includes(to)) throw new TransitionError(kind, from, to);
  return to;
}
