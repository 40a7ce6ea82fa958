import type { BnSpec } from '@dptrain/model/stats';
import { globalNorm } from '@dptrain/optim';
import { ProtocolError, type MessageOf } from '@dptrain/protocol';
import { type Logger } from '@dptrain/log';
import type { JobDescription, PlanSizes } from '@dptrain/job';
import type { LeaseTickets } from '../lease-ticket.js';
import type { PushMessage } from './aggregation.js';

export interface PushGuardOptions {
  readonly job: JobDescription;
  readonly shard: number;
  readonly plan: PlanSizes;
  readonly bnSpecs: readonly BnSpec[];
  readonly log: Logger;
  /** The shard's counters: a push refused for its ticket is counted here. */
  readonly counters: { unticketed: number };
  /** @default no ticket check */
  readonly tickets?: LeaseTickets;
}

/**
 * What a push must pass before it can touch a shard, whatever the aggregation: its lease ticket,
 * its range, its batch-norm moments and, with maxGradNorm, its gradient's norm.
 */
export class PushGuards {
  constructor(private readonly options: PushGuardOptions) {}

  /**
   * @returns why the push is poisoned (its gradient's norm is beyond maxGradNorm), else undefined
   * @throws ProtocolError E_TICKET, E_RANGE or E_MALFORMED
   */
  push(msg: MessageOf<'push'>): string | undefined {
    const { plan, job, shard } = this.options;
    this.requireTickets(msg);
    const M = plan.microBatchesPerStep;
    if (msg.microBatchId >= M) {
      throw new ProtocolError('E_RANGE', `push.microBatchId ${msg.microBatchId} is not below ${M} micro-batches per step`, { ref: msg.seq });
    }
    if (msg.step >= plan.totalSteps) {
      throw new ProtocolError('E_RANGE', `push.step ${msg.step} is not below the job's ${plan.totalSteps} steps`, { ref: msg.seq });
    }
    this.requireBnStats(msg);
    const bound = job.config.maxGradNorm;
    if (bound === undefined) return undefined;
    const norm = globalNorm(msg.grads);
    if (norm <= bound) return undefined;
    this.options.log({ level: 'warn', event: 'push-poisoned', shard, step: msg.step, microBatchId: msg.microBatchId, norm, maxGradNorm: bound });
    return `poisoned: the gradient slice's ℓ2 norm ${norm} exceeds maxGradNorm ${bound}`;
  }

  /**
   * Refuses (E_TICKET, counted) a push or run without the coordinator's ticket for each of its
   * micro-batches under its lease, before it can change anything.
   */
  requireTickets(msg: PushMessage): void {
    const tickets = this.options.tickets;
    if (!tickets) return;
    const given = msg.type === 'push' ? (msg.ticket === undefined ? [] : [msg.ticket]) : (msg.tickets ?? []);
    const count = msg.type === 'push' ? 1 : msg.count;
    const valid = given.length === count && given.every((ticket, j) => tickets.verify(msg.step, msg.microBatchId + j, msg.leaseId, ticket));
    if (valid) return;
    this.options.counters.unticketed++;
    const what = count === 1 ? `micro-batch ${msg.microBatchId}` : `micro-batches ${msg.microBatchId}..${msg.microBatchId + count - 1}`;
    throw new ProtocolError(
      'E_TICKET',
      `${msg.type} of step ${msg.step} ${what} carries ${given.length === 0 ? 'no lease ticket' : `no valid ticket of lease ${msg.leaseId ?? '(none)'}`}; refused`,
      { ref: msg.seq },
    );
  }

  requireBnStats(msg: PushMessage): void {
    const { bnSpecs, shard } = this.options;
    if ((msg.bnStats !== undefined) === bnSpecs.length > 0) return;
    throw new ProtocolError(
      'E_MALFORMED',
      bnSpecs.length > 0
        ? `${msg.type}.bnStats is missing; shard 0 of a batch-norm model needs each micro-batch's moments`
        : `${msg.type}.bnStats was sent to shard ${shard}, which keeps no batch-norm statistics; send them to shard 0 only`,
      { ref: msg.seq },
    );
  }
}
