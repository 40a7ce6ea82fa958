import { checkInteger, checkSeed } from './check-options.js';
import { DataOptionError } from './data-error.js';
import { seededPermutation } from './permutation.js';
import { deriveSeed } from '@dptrain/random';
import { STREAM } from './streams.js';

export interface DataPlanOptions {
  /** Samples in the split being trained on. */
  readonly numSamples: number;
  /** Samples per global batch (one optimizer step). */
  readonly batchSize: number;
  /** Samples per micro-batch; must divide `batchSize`. Fixed whatever the number of workers. */
  readonly microBatchSize: number;
  readonly epochs: number;
  /** Unsigned 32-bit seed of the per-epoch shuffles. */
  readonly seed: number;
  /** Shuffle each epoch; `false` keeps the samples in stored order (for debugging). @default true */
  readonly shuffle?: boolean;
  /** Epoch permutations kept in memory (4 bytes per sample each); older ones are recomputed on demand. @default 2 */
  readonly cachedEpochs?: number;
}

export interface MicroBatch {
  /** Position in its step, 0..microBatchesPerStep−1: the order in which gradients are summed. */
  readonly id: number;
  /** Sample indices into the split, `microBatchSize` of them (a copy the caller may keep). */
  readonly indices: Uint32Array;
}

export interface PlanStep {
  /** Global step, 0..totalSteps−1. */
  readonly step: number;
  readonly epoch: number;
  /** Step within its epoch, 0..stepsPerEpoch−1. */
  readonly stepInEpoch: number;
  readonly microBatches: readonly MicroBatch[];
}

/**
 * The deterministic order in which a run visits its samples:
 *
 * 1. epoch e's order is the Fisher–Yates permutation of 0..numSamples−1 drawn from mulberry32 seeded
 *    with `deriveSeed(seed, STREAM.epochShuffle, e)`: it depends on (seed, e) alone, so any process
 *    can compute any epoch without replaying earlier ones;
 * 2. the permutation is cut into `stepsPerEpoch = ⌊numSamples / batchSize⌋` global batches; the
 *    last `numSamples mod batchSize` samples of the permutation are **dropped** for that epoch
 *    (a different set each epoch), because a short batch would need a short micro-batch, and a
 *    fixed micro-batch size is what makes every cluster size compute bit-identical steps;
 * 3. global batch t is cut in order into `batchSize / microBatchSize` micro-batches with ids 0, 1, …
 *
 * `step(t)` is O(batchSize) once the epoch's permutation is cached (computing one is O(numSamples)),
 * so a coordinator that restarts mid-run or re-leases old work needs no iteration from the start.
 */
export class DataPlan {
  readonly numSamples: number;
  readonly batchSize: number;
  readonly microBatchSize: number;
  readonly epochs: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly stepsPerEpoch: number;
  readonly microBatchesPerStep: number;
  readonly totalSteps: number;
  /** Samples left out of every epoch by the drop-last rule. */
  readonly droppedPerEpoch: number;
  private readonly cachedEpochs: number;
  private readonly cache = new Map<number, Uint32Array>();

  /** @throws {DataOptionError} a size that is not a positive integer, a micro-batch size that does not divide the batch size, or a batch larger than the split. */
  constructor(options: DataPlanOptions) {
    this.numSamples = checkInteger('numSamples', options.numSamples, 1, 0xffff_ffff);
    this.batchSize = checkInteger('batchSize', options.batchSize, 1);
    this.microBatchSize = checkInteger('microBatchSize', options.microBatchSize, 1);
    this.epochs = checkInteger('epochs', options.epochs, 1);
    this.seed = checkSeed('seed', options.seed);
    this.shuffle = options.shuffle ?? true;
    this.cachedEpochs = checkInteger('cachedEpochs', options.cachedEpochs ?? 2, 1);
    if (this.batchSize % this.microBatchSize !== 0) {
      throw new DataOptionError(
        'E_PLAN_MICRO_BATCH',
        'microBatchSize',
        this.microBatchSize,
        `microBatchSize ${this.microBatchSize} does not divide batchSize ${this.batchSize}; choose a divisor (e.g. ${largestDivisorAtMost(this.batchSize, this.microBatchSize)}) so every micro-batch has the same size`,
      );
    }
    if (this.batchSize > this.numSamples) {
      throw new DataOptionError(
        'E_DATA_OPTION',
        'batchSize',
        this.batchSize,
        `batchSize ${this.batchSize} exceeds the ${this.numSamples} samples of the split, so every batch would be dropped; use at most ${this.numSamples}`,
      );
    }
    this.stepsPerEpoch = Math.floor(this.numSamples / this.batchSize);
    this.microBatchesPerStep = this.batchSize / this.microBatchSize;
    this.totalSteps = this.stepsPerEpoch * this.epochs;
    this.droppedPerEpoch = this.numSamples - this.stepsPerEpoch * this.batchSize;
  }

  /** The micro-batches of global step t. @throws {DataOptionError} E_PLAN_STEP outside 0..totalSteps−1. */
  step(t: number): PlanStep {
    this.checkStep(t);
    const epoch = Math.floor(t / this.stepsPerEpoch);
    const stepInEpoch = t - epoch * this.stepsPerEpoch;
    const order = this.order(epoch);
    const microBatches: MicroBatch[] = [];
    for (let id = 0; id < this.microBatchesPerStep; id++) {
      const start = stepInEpoch * this.batchSize + id * this.microBatchSize;
      microBatches.push({ id, indices: order.slice(start, start + this.microBatchSize) });
    }
    return { step: t, epoch, stepInEpoch, microBatches };
  }

  /** The sample indices of one micro-batch, as leased by (step, id). @throws {DataOptionError} E_PLAN_STEP for an unknown step or id. */
  microBatch(t: number, id: number): Uint32Array {
    this.checkStep(t);
    if (!Number.isInteger(id) || id < 0 || id >= this.microBatchesPerStep) {
      throw new DataOptionError('E_PLAN_STEP', 'id', id, `micro-batch id ${id} does not exist: each step has ids 0..${this.microBatchesPerStep - 1}`);
    }
    const epoch = Math.floor(t / this.stepsPerEpoch);
    const start = (t - epoch * this.stepsPerEpoch) * this.batchSize + id * this.microBatchSize;
    return this.order(epoch).slice(start, start + this.microBatchSize);
  }

  /** Steps from `from` (default 0) to the end, in order. */
  *steps(from = 0): IterableIterator<PlanStep> {
    for (let t = from; t < this.totalSteps; t++) yield this.step(t);
  }

  /** A copy of epoch e's full sample order, including the samples the drop-last rule leaves out. */
  permutation(epoch: number): Uint32Array {
    checkInteger('epoch', epoch, 0, this.epochs - 1);
    return this.order(epoch).slice();
  }

  private order(epoch: number): Uint32Array {
    let order = this.cache.get(epoch);
    if (order !== undefined) {
      // Re-insert so the Map's insertion order doubles as least-recently-used order.
      this.cache.delete(epoch);
    } else {
      order = this.shuffle
        ? seededPermutation(this.numSamples, deriveSeed(this.seed, STREAM.epochShuffle, epoch))
        : Uint32Array.from({ length: this.numSamples }, (_, i) => i);
      if (this.cache.size >= this.cachedEpochs) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(epoch, order);
    return order;
  }

  private checkStep(t: number): void {
    if (!Number.isInteger(t) || t < 0 || t >= this.totalSteps) {
      throw new DataOptionError(
        'E_PLAN_STEP',
        'step',
        t,
        `step ${t} is outside the plan: steps 0..${this.totalSteps - 1} (${this.epochs} epochs × ${this.stepsPerEpoch} steps)`,
      );
    }
  }
}

/** Builds the run's data plan; see `DataPlan` for the algorithm. */
export function createDataPlan(options: DataPlanOptions): DataPlan {
  return new DataPlan(options);
}

function largestDivisorAtMost(n: number, limit: number): number {
  for (let d = Math.min(limit, n); d > 1; d--) if (n % d === 0) return d;
  return 1;
}
