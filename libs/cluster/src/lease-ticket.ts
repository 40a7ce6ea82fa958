import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bytes of the HMAC a ticket keeps: 128 bits, 22 base64url characters. */
const TICKET_BYTES = 16;

/**
 * Lease tickets bind a gradient push to the lease it answers. The coordinator signs each
 * (step, micro-batch, lease) it leases with an HMAC-SHA256 under a key derived from the job's
 * secret and id; a shard recomputes it before a push can touch its state, without asking the
 * coordinator. A worker pushing a micro-batch it was not leased, a peer of another job or secret,
 * or a push whose step or id was altered is refused (E_TICKET).
 *
 * Whoever holds the job's secret can derive the key and mint tickets: tickets keep out buggy,
 * stale and misconfigured peers, not a holder of the secret bent on harm (docs/SECURITY.md).
 */
export class LeaseTickets {
  private readonly key: Buffer;

  /**
   * @param secret the job's shared token (DPTRAIN_TOKEN)
   * @param jobId the job's id: another job's tickets do not verify here
   */
  constructor(secret: string, jobId: string) {
    this.key = createHmac('sha256', secret).update(`dptrain lease ticket v1\0${jobId}`).digest();
  }

  /** The ticket of micro-batch `microBatchId` of `step` under lease `leaseId`. */
  mint(step: number, microBatchId: number, leaseId: number): string {
    return this.mac(step, microBatchId, leaseId).toString('base64url');
  }

  /** The tickets of a lease, one per id, in the lease's order. */
  mintLease(step: number, microBatchIds: readonly number[], leaseId: number): string[] {
    return microBatchIds.map((id) => this.mint(step, id, leaseId));
  }

  /** Whether `ticket` is the one minted for (step, microBatchId, leaseId); constant time in the ticket. */
  verify(step: number, microBatchId: number, leaseId: number | undefined, ticket: string | undefined): boolean {
    if (leaseId === undefined || ticket === undefined) return false;
    const given = Buffer.from(ticket, 'base64url');
    return given.length === TICKET_BYTES && timingSafeEqual(given, this.mac(step, microBatchId, leaseId));
  }

  private mac(step: number, microBatchId: number, leaseId: number): Buffer {
    return createHmac('sha256', this.key).update(`${step}/${microBatchId}/${leaseId}`).digest().subarray(0, TICKET_BYTES);
  }
}
