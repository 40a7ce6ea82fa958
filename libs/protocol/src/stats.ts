/** Counters of one connection (or of whoever passes the object to the codec). All start at 0. */
export interface WireStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /**
   * Received frames whose tensor bytes did not start at a 4-byte aligned address (the transport
   * handed over a slice of a larger buffer), so they were copied once to make Float32Array views.
   */
  unalignedCopies: number;
  /** Received frames refused by the decoder or validator. */
  rejected: number;
  /** Replies that arrived after their request had timed out (dropped). */
  lateReplies: number;
}

export function createWireStats(): WireStats {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, unalignedCopies: 0, rejected: 0, lateReplies: 0 };
}
