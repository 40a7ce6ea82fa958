import { updateRunningStats, type BnSpec } from '@dptrain/model/stats';
import { globalNorm, type OptimizerState } from '@dptrain/optim';
import { firstNonFinite } from '@dptrain/protocol';
import { type Logger } from '@dptrain/log';
import { UpdateRule } from '@dptrain/training';
import { planSizes, type JobDescription, type PlanSizes } from '@dptrain/job';
import { modelOf } from '../model-of.js';
import { shardRange, type ShardRange } from '../shards.js';
import { AppliedLedger } from './applied-ledger.js';
import type { ShardSnapshot } from './checkpoint-file.js';
import { PreviousPoint, type PointView } from './previous-point.js';
import type { AppliedReport } from './shard-types.js';
import type { WalRecord } from './write-ahead-log.js';
import { withCode } from '@dptrain/errors';

/** An update whose mean gradient or resulting parameters are not finite: the shard refuses it. */
export class NonFiniteUpdate extends withCode('E_NON_FINITE_UPDATE') {}

/** AppliedReports a shard keeps to re-send to a restarted coordinator. */
const RECENT_APPLIED = 8;

export interface ShardStateOptions {
  readonly job: JobDescription;
  readonly shard: number;
  /** Optimizer updates per step (sync 1, async M): the learning-rate schedule runs over updates. */
  readonly updatesPerStep: number;
  /** Keep a copy of the point before each update (sync serves a pull of version − 1 from it). */
  readonly keepsPrevious: boolean;
  readonly log: Logger;
}

/**
 * What a shard holds between two updates: its slice of the parameters and of the optimizer's
 * state, on shard 0 the batch-norm running statistics, the (step, micro-batch) pairs applied, and
 * the version. One update, live or replayed from the write-ahead log, runs the same code here, so a
 * restored shard holds the same bits.
 */
export class ShardState {
  readonly range: ShardRange;
  /** Length of the whole flat parameter vector. */
  readonly paramCount: number;
  readonly plan: PlanSizes;
  readonly params: Float32Array;
  readonly bnState: Float32Array | undefined;
  readonly bnSpecs: readonly BnSpec[];
  /** The optimizer's gradient buffer: an update reads its gradient from here (sync folds the mean into it). */
  readonly grad: Float32Array;
  /** Async: how many gradients were applied at each staleness (index = current − v). */
  readonly stalenessHistogram: number[] = [];
  /** Updates refused because a (step, micro-batch) of them was already applied: must stay 0. */
  doubleApplied = 0;
  private readonly rule: UpdateRule;
  private readonly point: Float32Array;
  private atPoint: Float32Array;
  /** Every (step, micro-batch) applied. */
  private ledger: AppliedLedger;
  private readonly previous: PreviousPoint | undefined;
  private recent: AppliedReport[] = [];
  private versionNow = 0;

  constructor(private readonly options: ShardStateOptions) {
    const { job, shard, updatesPerStep } = options;
    const model = modelOf(job);
    this.paramCount = model.paramCount;
    this.range = shardRange(model.paramCount, job.config.psShards, shard);
    this.plan = planSizes(job);
    this.bnSpecs = shard === 0 ? model.bnSpecs : [];
    this.bnState = shard === 0 && model.bnSpecs.length > 0 ? model.initBnState() : undefined;
    const initial = model.init(job.config.seed).subarray(this.range.offset, this.range.offset + this.range.length);
    model.dispose();
    this.rule = new UpdateRule(job.config, this.range.length, this.plan.totalSteps * updatesPerStep, this.plan.stepsPerEpoch * updatesPerStep);
    // The optimizer's own buffers: its WebAssembly kernels then update them without copies.
    const buffers = this.rule.optimizer.buffers;
    this.params = buffers.params;
    this.params.set(initial);
    this.point = buffers.point;
    this.grad = buffers.grads;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    this.ledger = new AppliedLedger(this.plan.totalSteps, this.plan.microBatchesPerStep);
    this.previous = options.keepsPrevious ? new PreviousPoint(this.range.length, this.point !== this.params, this.bnState?.length) : undefined;
  }

  /** Optimizer updates per step. */
  get updatesPerStep(): number {
    return this.options.updatesPerStep;
  }

  get version(): number {
    return this.versionNow;
  }

  /** Steps applied: the version over the updates each step makes. */
  get step(): number {
    return Math.floor(this.versionNow / this.options.updatesPerStep);
  }

  /** Whether the update rule changes the gradient in place (clipping): then it must be logged before it is made. */
  get changesGradient(): boolean {
    return this.rule.changesGradient;
  }

  get appliedMicroBatches(): number {
    return this.ledger.count;
  }

  applied(step: number, id: number): boolean {
    return this.ledger.has(step, id);
  }

  /**
   * Checks an update before anything changes: copies its gradient into the optimizer's buffer
   * (the update may clip in place) and measures it.
   * @returns the gradient's ℓ2 norm, or undefined when a micro-batch of it was already applied
   * @throws NonFiniteUpdate when the gradient is not finite
   */
  admit(record: WalRecord): number | undefined {
    const { step, microBatchIds } = record;
    const again = microBatchIds.filter((id) => this.ledger.has(step, id));
    if (again.length > 0) {
      this.doubleApplied++;
      this.options.log({
        level: 'error',
        event: 'double-apply-refused',
        shard: this.options.shard,
        step,
        microBatchIds: again,
        message: `step ${step} micro-batches ${again.join(', ')} were already applied; the update is refused`,
      });
      return undefined;
    }
    if (record.grad !== this.grad) this.grad.set(record.grad);
    // Finite pushes can sum past float32's range; such a mean is refused before anything changes.
    const norm = globalNorm(this.grad);
    if (!Number.isFinite(norm))
      throw new NonFiniteUpdate(
        `the mean gradient of step ${step} is not finite (its ℓ2 norm is ${norm}: the pushes sum past float32's range, or one holds a value that large)`,
      );
    return norm;
  }

  /**
   * Makes the admitted update: the optimizer step, the batch-norm statistics, the ledger, the
   * version.
   * @throws NonFiniteUpdate when the optimizer made a parameter that is not finite
   */
  apply(record: WalRecord, gradNorm: number): AppliedReport {
    const { step, microBatchIds } = record;
    this.previous?.save(this.current());
    const { lr } = this.rule.update(this.params, this.grad);
    const bad = firstNonFinite(this.params);
    if (bad >= 0) throw new NonFiniteUpdate(`step ${step}'s update made parameter ${this.range.offset + bad} ${this.params[bad]} (the optimizer diverged)`);
    if (this.bnState && record.moments) updateRunningStats(this.bnState, this.bnSpecs, record.moments, { momentum: this.options.job.config.bnMomentum });
    this.ledger.add(step, microBatchIds);
    if (record.pushedVersion !== undefined) {
      const lag = record.version - record.pushedVersion;
      this.stalenessHistogram[lag] = (this.stalenessHistogram[lag] ?? 0) + 1;
      for (let i = 0; i < this.stalenessHistogram.length; i++) this.stalenessHistogram[i] ??= 0;
    }
    this.versionNow = record.version + 1;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
    return { step, version: this.versionNow, microBatchIds: [...microBatchIds], lr, gradNorm, losses: [...record.losses] };
  }

  /** Keeps a finished update's report: a restarted coordinator hears the recent ones again. */
  keep(report: AppliedReport): void {
    this.recent.push(report);
    if (this.recent.length > RECENT_APPLIED) this.recent.shift();
  }

  /** The last ≤ 8 updates (sync: one per step), oldest first. */
  recentApplied(): AppliedReport[] {
    return [...this.recent];
  }

  /** What a pull of the current version returns. */
  current(): PointView {
    return { version: this.versionNow, params: this.params, point: this.atPoint, bnState: this.bnState };
  }

  /** What a pull of an earlier version returns, when that is the version before this one and it is kept. */
  previousAt(version: number): PointView | undefined {
    return this.previous?.at(version);
  }

  optimizerState(): OptimizerState {
    return this.rule.optimizer.state();
  }

  /** A copy of the state for a checkpoint, taken between two updates. */
  snapshot(): ShardSnapshot {
    return {
      step: this.step,
      version: this.versionNow,
      params: this.params.slice(),
      optimizer: this.rule.optimizer.state(),
      bnState: this.bnState?.slice(),
      ledger: this.ledger.bytes(),
      previous: this.previous?.snapshot(),
      recentApplied: [...this.recent],
      stalenessHistogram: [...this.stalenessHistogram],
    };
  }

  restore(snapshot: ShardSnapshot): void {
    if (snapshot.params.length !== this.range.length) {
      throw new RangeError(
        `checkpoint holds ${snapshot.params.length} parameters but shard ${this.options.shard} owns ${this.range.length}; it belongs to another sharding`,
      );
    }
    this.rule.optimizer.load(snapshot.optimizer);
    this.params.set(snapshot.params);
    if (this.bnState && snapshot.bnState) this.bnState.set(snapshot.bnState);
    this.ledger = new AppliedLedger(this.plan.totalSteps, this.plan.microBatchesPerStep, snapshot.ledger);
    if (snapshot.previous) this.previous?.save(snapshot.previous);
    this.recent = [...snapshot.recentApplied];
    this.stalenessHistogram.splice(0, this.stalenessHistogram.length, ...snapshot.stalenessHistogram);
    this.versionNow = snapshot.version;
    this.atPoint = this.rule.gradientPoint(this.params, this.point);
  }
}
