import { ProtocolError, type ReplyOf } from '@dptrain/protocol';

/** What one shard's answer to one push means for the micro-batch. */
export type PushVerdict =
  | { readonly status: 'applied' }
  /** Async: computed on parameters too old; the coordinator leases the micro-batch again. */
  | { readonly status: 'stale' }
  /** The shard refused the gradient as poisoned; the coordinator leases it to another worker. */
  | { readonly status: 'refused'; readonly reason: string }
  /** A pushRun the shard cannot fold as one sum: push its micro-batches one by one. */
  | { readonly status: 'split' };

/** The prefix of a pushAck `reason` with which a shard refuses a gradient as poisoned (e.g. over maxGradNorm). */
export const POISONED_PREFIX = 'poisoned:';

/**
 * Waits for a shard's answer to a push and judges it. A refusal of the gradient itself is the
 * micro-batch's fault, not the lease's, so the lease goes on: the shard's decoder answered
 * E_NON_FINITE (a NaN or ±Infinity reached it), or the shard acknowledged `rejected` with a reason
 * starting `poisoned:`. `accepted` and `duplicate` both mean the shard holds the gradient; `split`
 * (a pushRun only) that it holds none of the run's sum.
 * @throws the ack's own error for anything else (E_CLOSED: the caller reconnects and retries), and
 *   ProtocolError E_STALE for any other `rejected`, or `stale` in sync mode (the step moved on)
 */
export async function pushVerdict(ack: Promise<ReplyOf<'push'>>, async: boolean): Promise<PushVerdict> {
  let reply: ReplyOf<'push'>;
  try {
    reply = await ack;
  } catch (error) {
    if (error instanceof ProtocolError && error.remote && error.code === 'E_NON_FINITE') return { status: 'refused', reason: error.message };
    throw error;
  }
  if (reply.status === 'rejected' && reply.reason?.startsWith(POISONED_PREFIX)) return { status: 'refused', reason: reply.reason };
  if (reply.status === 'rejected' || (reply.status === 'stale' && !async)) {
    throw new ProtocolError('E_STALE', `push of step ${reply.step} micro-batch ${reply.microBatchId} was ${reply.status}: ${reply.reason ?? ''}`);
  }
  if (reply.status === 'split') return { status: 'split' };
  return { status: reply.status === 'stale' ? 'stale' : 'applied' };
}
