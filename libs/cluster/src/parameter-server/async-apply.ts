import { combineMicroBatchMoments } from '@dptrain/model/stats';
import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import { unpackMoments } from '../bn-wire.js';
import type { JobDescription, PlanSizes } from '@dptrain/job';
import type { Aggregation, AggregationHost, PushStatus } from './aggregation.js';
import { UpdatePhase } from './update-phases.js';
import type { WalRecord } from './write-ahead-log.js';

/** Why a push is not applied. */
export interface PushVerdict {
  readonly status: Exclude<PushStatus, 'accepted' | 'split'>;
  readonly reason: string;
}

/**
 * Asynchronous aggregation (stale-synchronous parallel): the version counts applied micro-batches.
 * A push computed on version v is applied at once when `version − v ≤ staleness`, else answered
 * `stale`; each (step, micro-batch) is applied once.
 */
export class AsyncApply implements Aggregation {
  static readonly keepsPrevious = false;
  /** One update per micro-batch, so the schedule runs over M times as many updates. */
  static updatesPerStep(plan: PlanSizes): number {
    return plan.microBatchesPerStep;
  }

  private readonly bound: number;

  constructor(
    private readonly host: AggregationHost,
    job: JobDescription,
  ) {
    this.bound = job.config.staleness;
  }

  pullStep(_connection: Connection, msg: MessageOf<'pull'>): void {
    throw new ProtocolError('E_MALFORMED', 'pull.step is for synchronous mode; this job is async: pull with minVersion', { ref: msg.seq });
  }

  pushRun(_connection: Connection, msg: MessageOf<'pushRun'>): void {
    throw new ProtocolError('E_MALFORMED', 'pushRun is for synchronous mode; this job is async: push each micro-batch', { ref: msg.seq });
  }

  /** The staleness rule: why `msg` is not applied at the shard's current version, or undefined to apply it. */
  private verdict(msg: Pick<MessageOf<'push'>, 'step' | 'microBatchId' | 'version'>): PushVerdict | undefined {
    const { state, shard } = this.host;
    if (state.applied(msg.step, msg.microBatchId)) return this.duplicate(msg);
    if (msg.version > state.version) return { status: 'rejected', reason: `version ${msg.version} is ahead of shard ${shard}'s version ${state.version}` };
    const lag = state.version - msg.version;
    if (lag > this.bound)
      return { status: 'stale', reason: `computed on version ${msg.version}, ${lag} updates behind version ${state.version}; the bound is ${this.bound}` };
    return undefined;
  }

  push(connection: Connection, msg: MessageOf<'push'>): void {
    const { host } = this;
    const refused = this.verdict(msg);
    if (refused) {
      host.ack(connection, msg, refused.status, refused.reason);
      return;
    }
    const bnSpecs = host.state.bnSpecs;
    const record: WalRecord = {
      version: host.state.version,
      step: msg.step,
      microBatchIds: [msg.microBatchId],
      losses: [msg.loss],
      pushedVersion: msg.version,
      grad: msg.grads,
      ...(bnSpecs.length > 0 && msg.bnStats ? { moments: combineMicroBatchMoments([unpackMoments(bnSpecs, msg.bnStats)]) } : {}),
    };
    const update = host.updates.applyNow(record);
    if (update.phase === UpdatePhase.Skipped) {
      const { status, reason } = this.duplicate(msg);
      host.ack(connection, msg, status, reason);
      return;
    }
    if (update.phase === UpdatePhase.Refused)
      throw new ProtocolError('E_NON_FINITE', `shard ${host.shard} refused this push: ${update.reason}`, { ref: msg.seq });
    host.ack(connection, msg, 'accepted');
    host.updates.report(update);
    void host.pulls.serve();
  }

  private duplicate(msg: Pick<MessageOf<'push'>, 'step' | 'microBatchId'>): PushVerdict {
    return { status: 'duplicate', reason: `step ${msg.step} micro-batch ${msg.microBatchId} was already applied` };
  }
}
