import { CodedError } from '@dptrain/errors';

/** A move its state machine does not allow: a bug in the owner, named with both states and the legal targets. */
export class TransitionError extends CodedError<'E_TRANSITION'> {
  constructor(kind: string, from: string, to: string, legal: readonly string[], owner: string) {
    super('E_TRANSITION', `illegal ${kind} transition ${from} → ${to} (legal from ${from}: ${legal.join(', ') || 'none'}); this is a bug in ${owner}`);
  }
}

/**
 * The checked moves of one kind of state: `legal` lists, for each state, where it may go. The
 * returned function gives back `to` when `from → to` is listed, so a wrong move fails loudly
 * instead of corrupting the schedule.
 * @param owner whose code makes the moves, for the message of an illegal one
 */
export function stateMachine<S extends string>(kind: string, legal: { readonly [from in S]: readonly S[] }, owner: string): (from: S, to: S) => S {
  return (from, to) => {
    if (!legal[from].includes(to)) throw new TransitionError(kind, from, to, legal[from], owner);
    return to;
  };
}
