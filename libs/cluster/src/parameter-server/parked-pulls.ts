import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';

/** Pulls one connection may have waiting for new versions at once. */
export const MAX_HELD_PULLS = 4;

export interface ParkedPull {
  readonly connection: Connection;
  readonly request: MessageOf<'pull'>;
  /** The version that answers it: the step pulled (sync) or minVersion (async). */
  readonly version: number;
}

/**
 * Pulls that wait at a shard for a version it has not reached: a worker pulls the step after the
 * one it pushed, before the other workers' pushes complete that step. A peer holding the token
 * must not park requests without bound, so a pull is parked only a little ahead of the shard and
 * only MAX_HELD_PULLS per connection.
 */
export class ParkedPulls {
  /** In arrival order, which is the order they are answered in. */
  private readonly parked: ParkedPull[] = [];

  constructor(private readonly shard: number) {}

  get size(): number {
    return this.parked.length;
  }

  /**
   * Parks `request` until the shard reaches version `wanted`.
   * @param ahead how far past the current version a pull may wait (no worker needs more)
   * @throws ProtocolError E_RANGE when `wanted` is further ahead, E_LIMIT when the connection has MAX_HELD_PULLS parked
   */
  park(connection: Connection, request: MessageOf<'pull'>, wanted: number, current: number, ahead: number): void {
    if (wanted > current + ahead) {
      throw new ProtocolError(
        'E_RANGE',
        `pull of version ${wanted} is more than ${ahead} past shard ${this.shard}'s version ${current}; pull the step after the one you pushed`,
        { ref: request.seq },
      );
    }
    const waiting = this.parked.filter((p) => p.connection === connection).length;
    if (waiting >= MAX_HELD_PULLS) {
      throw new ProtocolError(
        'E_LIMIT',
        `${waiting} pulls of this connection already wait for new versions of shard ${this.shard} (MAX_HELD_PULLS ${MAX_HELD_PULLS})`,
        { ref: request.seq },
      );
    }
    this.parked.push({ connection, request, version: wanted });
  }

  /** Takes the pulls that `version` answers, those of open connections, in arrival order. */
  take(version: number): ParkedPull[] {
    return this.takeWhere((p) => p.version <= version);
  }

  /** Takes every pull of an open connection (the shard will serve no more). */
  takeAll(): ParkedPull[] {
    return this.takeWhere(() => true);
  }

  /** Forgets the pulls of a closed connection. */
  drop(connection: Connection): void {
    this.takeWhere((p) => p.connection === connection);
  }

  private takeWhere(taken: (pull: ParkedPull) => boolean): ParkedPull[] {
    const out: ParkedPull[] = [];
    let kept = 0;
    for (const pull of this.parked) {
      if (taken(pull)) out.push(pull);
      else this.parked[kept++] = pull;
    }
    this.parked.length = kept;
    return out.filter((p) => p.connection.isOpen);
  }
}
