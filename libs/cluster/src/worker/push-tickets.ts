import type { MessageOf } from '@dptrain/protocol';

/**
 * The lease fields a push of `ids` carries: the lease id and the lease's tickets for those ids
 * (lease-ticket.ts), shaped by `shape`; nothing when the coordinator signs no leases.
 */
export function ticketsOf<T extends object>(
  lease: MessageOf<'lease'>,
  ids: readonly number[],
  shape: (tickets: string[]) => T,
): ({ leaseId: number } & T) | Record<never, never> {
  if (!lease.tickets) return {};
  return { leaseId: lease.leaseId, ...shape(ids.map((id) => lease.tickets![lease.microBatchIds.indexOf(id)]!)) };
}

/** How many of the ids 0, 1, 2, … `ids` holds from 0 on (the micro-batches a run can pre-sum). */
export function leadingRun(ids: readonly number[]): number {
  const held = new Set(ids);
  let n = 0;
  while (held.has(n)) n++;
  return n;
}
