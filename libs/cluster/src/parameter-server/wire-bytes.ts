import type { Connection } from '@dptrain/protocol';

/**
 * Bytes a shard received and sent over all its connections, the closed ones included: what a
 * step really moves on the wire (frames with their headers), next to what its tensors should
 * weigh.
 */
export class WireBytes {
  private readonly open = new Set<Connection>();
  private closedIn = 0;
  private closedOut = 0;

  add(connection: Connection): void {
    this.open.add(connection);
  }

  closed(connection: Connection): void {
    if (!this.open.delete(connection)) return;
    this.closedIn += connection.stats.bytesIn;
    this.closedOut += connection.stats.bytesOut;
  }

  totals(): { bytesIn: number; bytesOut: number } {
    let bytesIn = this.closedIn;
    let bytesOut = this.closedOut;
    for (const connection of this.open) {
      bytesIn += connection.stats.bytesIn;
      bytesOut += connection.stats.bytesOut;
    }
    return { bytesIn, bytesOut };
  }
}
