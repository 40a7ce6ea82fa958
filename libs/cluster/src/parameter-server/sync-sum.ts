import { combineMicroBatchMoments } from '@dptrain/model/stats';
import { GradientSum, scaleFromZero } from '@dptrain/optim';
import { ProtocolError, type Connection, type MessageOf } from '@dptrain/protocol';
import { unpackMoments, type WireMoments } from '../bn-wire.js';
import { planSizes, type JobDescription } from '@dptrain/job';
import type { Aggregation, AggregationHost, PushMessage } from './aggregation.js';
import type { WalRecord } from './write-ahead-log.js';

/** The furthest step past its version a shard parks a pull for. */
const SYNC_PULL_AHEAD = 2;

/**
 * Synchronous aggregation (CLUSTER.md steps 3–5): version t is the state after t steps. The pushes
 * of step t are folded into the sum in micro-batch id order — `sum += g_0`, then `g_1`, … — with
 * early arrivals buffered (at most M); when all M are in, `sum` is scaled by 1/M and the update
 * rule takes one step, exactly as the reference trainer does, so the result is bit-identical to it.
 * A pull of step t is answered with the gradient point once the version is t (parked until then).
 */
export class SyncSum implements Aggregation {
  static readonly keepsPrevious = true;
  static updatesPerStep(): number {
    return 1;
  }

  /** The current step's sum of pushes, folded in id order. */
  private readonly sum: GradientSum;
  private readonly early: (Float32Array | undefined)[];
  private readonly moments: (WireMoments[] | undefined)[];
  private readonly losses: number[];
  private readonly received = new Set<number>();
  private nextId = 0;
  private readonly totalSteps: number;
  /** Why every run is split, when it is: maxGradNorm judges each micro-batch alone. */
  private readonly splitEveryRun: string | undefined;

  constructor(
    private readonly host: AggregationHost,
    job: JobDescription,
  ) {
    const { microBatchesPerStep: M, totalSteps } = planSizes(job);
    this.totalSteps = totalSteps;
    this.sum = new GradientSum(host.state.grad.length);
    this.early = new Array<Float32Array | undefined>(M).fill(undefined);
    this.moments = new Array<WireMoments[] | undefined>(M).fill(undefined);
    this.losses = new Array<number>(M).fill(Number.NaN);
    this.splitEveryRun = job.config.maxGradNorm !== undefined ? 'the job sets maxGradNorm, which judges each micro-batch alone' : undefined;
  }

  pullStep(connection: Connection, msg: MessageOf<'pull'>): void {
    const step = msg.step!;
    const { version } = this.host.state;
    if (step < version) {
      const previous = this.host.state.previousAt(step);
      if (previous) {
        void this.host.pulls.answer(connection, msg, previous);
        return;
      }
      throw new ProtocolError(
        'E_STALE',
        `pull.step ${step} was already applied; shard ${this.host.shard} is at version ${version} and serves steps ${version - 1} and ${version} only`,
        { ref: msg.seq },
      );
    }
    if (step > version) this.host.pulls.park(connection, msg, step, SYNC_PULL_AHEAD);
    else void this.host.pulls.answer(connection, msg);
  }

  push(connection: Connection, msg: MessageOf<'push'>): void {
    const id = msg.microBatchId;
    if (this.answeredForStep(connection, msg, this.received.has(id), `micro-batch ${id} was`)) return;
    this.received.add(id);
    this.moments[id] = msg.bnStats ? unpackMoments(this.host.state.bnSpecs, msg.bnStats) : undefined;
    this.losses[id] = msg.loss;
    if (id === this.nextId) {
      this.sum.add(msg.grads);
      this.nextId++;
      this.foldEarly();
    } else {
      // A view of the received frame: it stays valid as long as it is referenced.
      this.early[id] = msg.grads;
    }
    this.host.ack(connection, msg, 'accepted');
    if (this.nextId === this.early.length) this.complete();
  }

  /**
   * Its sum was folded from zero in id order, so adding it to an empty sum gives the bits folding
   * each would: the shard takes it only at the start of a step with none of the run received, and
   * answers `split` otherwise (the worker then pushes the micro-batches one by one).
   */
  pushRun(connection: Connection, msg: MessageOf<'pushRun'>): void {
    const M = this.early.length;
    const first = msg.microBatchId;
    const last = first + msg.count - 1;
    if (first + msg.count > M) {
      throw new ProtocolError('E_RANGE', `pushRun covers micro-batches ${first}..${last}, past the ${M} micro-batches per step`, { ref: msg.seq });
    }
    if (msg.step >= this.totalSteps) {
      throw new ProtocolError('E_RANGE', `pushRun.step ${msg.step} is not below the job's ${this.totalSteps} steps`, { ref: msg.seq });
    }
    this.host.guards.requireBnStats(msg);
    let received = 0;
    for (let id = first; id <= last; id++) if (this.received.has(id)) received++;
    if (this.answeredForStep(connection, msg, received === msg.count, `micro-batches ${first}..${last} were`)) return;
    const why =
      this.splitEveryRun ??
      (first !== 0 || this.nextId !== 0 || received > 0
        ? `shard ${this.host.shard} has folded ${this.nextId} and holds ${this.received.size} micro-batches of step ${msg.step}; a run is added only to an empty sum at micro-batch 0`
        : undefined);
    if (why) {
      this.host.ack(connection, msg, 'split', `${why}: push micro-batches ${first}..${last} one by one`);
      return;
    }
    const blockLength = msg.bnStats ? msg.bnStats.length / msg.count : 0;
    for (let j = 0; j < msg.count; j++) {
      this.received.add(first + j);
      this.moments[first + j] = msg.bnStats ? unpackMoments(this.host.state.bnSpecs, msg.bnStats.subarray(j * blockLength, (j + 1) * blockLength)) : undefined;
      this.losses[first + j] = msg.losses[j];
    }
    // The sum is empty (+0 everywhere), so adding the run's sum (folded from +0 as the shard would)
    // reproduces it exactly. A run that is the whole step becomes the mean in one pass.
    const whole = msg.count === M;
    if (whole) scaleFromZero(this.host.state.grad, msg.grads, 1 / M);
    else this.sum.add(msg.grads);
    this.nextId = msg.count;
    this.foldEarly();
    this.host.ack(connection, msg, 'accepted');
    if (this.nextId === M) this.complete(whole);
  }

  /** Folds the buffered micro-batches that now come next in id order. */
  private foldEarly(): void {
    while (this.nextId < this.early.length && this.early[this.nextId]) {
      this.sum.add(this.early[this.nextId]!);
      this.early[this.nextId] = undefined;
      this.nextId++;
    }
  }

  /**
   * Acknowledges a push or run whose step is not the current one, or whose micro-batches were all
   * received already: `duplicate` for a step applied or a repeat, `rejected` for a step ahead.
   * Returns whether it did (the message is then handled).
   */
  private answeredForStep(connection: Connection, msg: PushMessage, received: boolean, what: string): boolean {
    const { version } = this.host.state;
    if (msg.step < version || (msg.step === version && received)) {
      this.host.ack(connection, msg, 'duplicate', `step ${msg.step} ${what} already received`);
      return true;
    }
    if (msg.step > version) {
      this.host.ack(
        connection,
        msg,
        'rejected',
        `step ${msg.step} is ahead of shard ${this.host.shard}'s current step ${version}; pull step ${msg.step} first`,
      );
      return true;
    }
    return false;
  }

  /** All M micro-batches of the step are folded (`meanDone`: and their mean is in the optimizer's buffer). */
  private complete(meanDone = false): void {
    const M = this.early.length;
    const step = this.host.state.version;
    const grad = this.host.state.grad;
    // (0 + sum)·(1/M) is sum·(1/M): a sum folded from +0 is never −0. The next step sums from zero.
    if (!meanDone) {
      scaleFromZero(grad, this.sum.sum, 1 / M);
      this.sum.reset();
    }
    const record: WalRecord = {
      version: step,
      step,
      microBatchIds: Array.from({ length: M }, (_, i) => i),
      losses: this.losses.slice(),
      grad,
      ...(this.host.state.bnSpecs.length > 0 ? { moments: combineMicroBatchMoments(this.moments as WireMoments[][]) } : {}),
    };
    // The record holds copies, so the next step starts empty whatever becomes of this update.
    this.moments.fill(undefined);
    this.received.clear();
    this.nextId = 0;
    this.host.updates.serveStep(record);
  }
}
