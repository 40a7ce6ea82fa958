import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import type { Aggregation } from './aggregation.js';
import { ParkedPulls } from './parked-pulls.js';
import type { PointView } from './previous-point.js';
import type { ShardState } from './shard-state.js';

/**
 * The pull side of a shard: a pull is answered from the version it asks for, or parked until the
 * shard reaches it. A pull of a step (sync) goes to the aggregation policy, which knows what a
 * step is; a pull of minVersion is the same in every mode.
 */
export class ShardPulls {
  private readonly parked: ParkedPulls;

  constructor(
    private readonly state: ShardState,
    private readonly counters: { pulls: number },
    shard: number,
  ) {
    this.parked = new ParkedPulls(shard);
  }

  pull(connection: Connection, msg: MessageOf<'pull'>, aggregation: Pick<Aggregation, 'pullStep'>): void {
    this.counters.pulls++;
    const { plan, version } = this.state;
    if (msg.step !== undefined) {
      if (msg.step > plan.totalSteps) {
        throw new ProtocolError('E_RANGE', `pull.step ${msg.step} is past the last step ${plan.totalSteps} of this job`, { ref: msg.seq });
      }
      aggregation.pullStep(connection, msg);
    } else if (msg.minVersion! > version) {
      this.park(connection, msg, msg.minVersion!, plan.microBatchesPerStep);
    } else {
      void this.answer(connection, msg);
    }
  }

  /** Answers `msg` with `view`; resolves when the reply is written. */
  answer(connection: Connection, msg: MessageOf<'pull'>, view: PointView = this.state.current()): Promise<boolean> {
    const { range } = this.state;
    const source = msg.raw ? view.params : view.point;
    const offset = msg.offset ?? range.offset;
    const length = msg.length ?? range.length;
    const values = source.subarray(offset - range.offset, offset - range.offset + length);
    return connection.reply(msg, {
      type: 'params',
      version: view.version,
      step: msg.step ?? this.state.step,
      offset,
      values,
      ...(view.bnState ? { bnState: view.bnState } : {}),
    });
  }

  /** Parks `msg` until version `wanted` (parked-pulls.ts). */
  park(connection: Connection, msg: MessageOf<'pull'>, wanted: number, ahead: number): void {
    this.parked.park(connection, msg, wanted, this.state.version, ahead);
  }

  /** Answers the parked pulls the current version answers; each promise settles when its reply is written. */
  serve(): Promise<boolean>[] {
    return this.parked.take(this.state.version).map((p) => this.answer(p.connection, p.request));
  }

  /** The shard serves no more: every parked pull is answered with `error`. */
  refuseAll(error: (ref: number) => ProtocolError): void {
    for (const p of this.parked.takeAll()) void p.connection.replyError(p.request, error(p.request.seq));
  }

  /** Forgets the pulls of a closed connection. */
  drop(connection: Connection): void {
    this.parked.drop(connection);
  }
}
