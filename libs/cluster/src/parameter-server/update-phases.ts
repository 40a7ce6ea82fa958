import { stateMachine } from '../state-machine.js';

/**
 * The phases of one optimizer update of a shard. Where the write-ahead log append falls is the
 * subtle part: a synchronous update is served to the workers waiting on it before it is logged
 * (they all wait on it), unless the update rule clips the gradient in place, which would change
 * the record; an asynchronous one is logged before it is made.
 *
 *   Folded   (the record holds the gradient to apply: a step's mean, one push, or a logged update)
 *            → Admitted (none of its micro-batches was applied, its gradient is finite)
 *            | Skipped (a micro-batch of it was applied already) | Refused (its gradient is not finite)
 *   Admitted → Logged (logged before it is made) | Applied (logged after it is served, or replayed)
 *            | Refused (the parameters it made are not finite)
 *   Logged   → Applied (logged first) | Refused (logged first, then diverged)
 *            | Reported (logged after serving)
 *   Applied  → Served (sync: the pulls waiting for the new version are answered)
 *            | Reported (async) | Restored (replayed from the log: kept, not reported)
 *   Served   → Logged (once its replies are written, SETTLE_WAIT_MS passed or a message arrived)
 *            | Reported (logged first)
 *   Reported, Restored, Skipped and Refused are final.
 */
export enum UpdatePhase {
  Folded = 'folded',
  Admitted = 'admitted',
  Logged = 'logged',
  Applied = 'applied',
  Served = 'served',
  Reported = 'reported',
  Restored = 'restored',
  Skipped = 'skipped',
  Refused = 'refused',
}

const NEXT: { readonly [from in UpdatePhase]: readonly UpdatePhase[] } = {
  [UpdatePhase.Folded]: [UpdatePhase.Admitted, UpdatePhase.Skipped, UpdatePhase.Refused],
  [UpdatePhase.Admitted]: [UpdatePhase.Logged, UpdatePhase.Applied, UpdatePhase.Refused],
  [UpdatePhase.Logged]: [UpdatePhase.Applied, UpdatePhase.Refused, UpdatePhase.Reported],
  [UpdatePhase.Applied]: [UpdatePhase.Served, UpdatePhase.Reported, UpdatePhase.Restored],
  [UpdatePhase.Served]: [UpdatePhase.Logged, UpdatePhase.Reported],
  [UpdatePhase.Reported]: [],
  [UpdatePhase.Restored]: [],
  [UpdatePhase.Skipped]: [],
  [UpdatePhase.Refused]: [],
};

/**
 * Returns `to` when an update may go from `from` to `to`.
 * @throws TransitionError naming both phases and the legal targets
 */
export const advance = stateMachine<UpdatePhase>('update', NEXT, "the parameter server's update sequence");
