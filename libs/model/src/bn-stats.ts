/**
 * Batch-normalization statistics as plain numbers, with no TensorFlow.js dependency: the
 * parameter server imports this module (as `@dptrain/model/stats`) to merge the statistics that
 * workers report per micro-batch and to keep the running statistics used for evaluation.
 *
 * Conventions (lecture §6; Ioffe & Szegedy 2015, Algorithm 1):
 * - A layer's moments are per channel over every value it normalised (batch × height × width):
 *   `count` values, their `mean`, and their **biased** variance (divide by `count`), exactly the
 *   σ²_B the layer used in training.
 * - Running statistics follow PyTorch's convention: `new = (1 − m)·old + m·batch` with momentum
 *   `m` = 0.1 by default, and the batch variance fed into the running variance is made unbiased,
 *   `σ²_B · n/(n − 1)`, as the paper's inference step (Algorithm 2, line 10) prescribes. Keras
 *   writes the same average with the complementary number (`momentum = 0.99` there is `m = 0.01`
 *   here, `new = 0.99·old + 0.01·batch`), and whether Keras applies n/(n − 1) depends on its code
 *   path (fused kernels do, the unfused path does not).
 */
import { ModelError } from './model-error.js';

/**
 * Where one batch-norm layer lives in the model's running-statistics vector: `mean[channels]` at
 * `offset`, then `variance[channels]` at `offset + channels`. Layers follow the model's order.
 */
export interface BnSpec {
  readonly name: string;
  readonly channels: number;
  readonly offset: number;
}

/** The names of a batch-norm layer's running statistics as tensors (`params.safetensors`, checkpoints). */
export function runningStatsNames(layer: string): { readonly mean: string; readonly variance: string } {
  return { mean: `${layer}/running_mean`, variance: `${layer}/running_var` };
}

/** Per-channel moments of the values one batch-norm layer normalised; `variance` is biased. */
export interface BnMoments {
  readonly count: number;
  readonly mean: ArrayLike<number>;
  readonly variance: ArrayLike<number>;
}

/** Moments after combination, kept in double precision. */
export interface CombinedMoments extends BnMoments {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
}

/** Fraction of the new batch in the running average, PyTorch's convention. */
export const DEFAULT_BN_MOMENTUM = 0.1;

export interface RunningStatsOptions {
  /**
   * Weight of the new batch: `new = (1 − momentum)·old + momentum·batch`.
   * @default 0.1
   */
  readonly momentum?: number;
  /**
   * Feed the unbiased variance `σ²_B · n/(n − 1)` into the running variance (the paper's
   * inference step and PyTorch); `false` feeds σ²_B itself.
   * @default true
   */
  readonly unbiased?: boolean;
}

function checkMoments(m: BnMoments, what: string): void {
  if (!Number.isSafeInteger(m.count) || m.count < 0) {
    throw new ModelError(
      'E_MODEL_BN_STATS',
      `${what}: count ${m.count} is not a non-negative integer; report the number of values each channel normalised (batch × height × width)`,
    );
  }
  if (m.mean.length !== m.variance.length) {
    throw new ModelError(
      'E_MODEL_BN_STATS',
      `${what}: mean has ${m.mean.length} channels but variance has ${m.variance.length}; both must hold one value per channel`,
    );
  }
}

/**
 * Merges the moments of two disjoint sets of values into the moments of their union, by the
 * parallel algorithm of Chan, Golub & LeVeque (1979): with δ = μ_b − μ_a and n = n_a + n_b,
 * `μ = μ_a + δ·n_b/n` and `M2 = M2_a + M2_b + δ²·n_a·n_b/n`, where `M2 = count·variance`.
 * The result equals the moments of the concatenated values (up to rounding), so micro-batch
 * statistics combine into the global batch's statistics whatever the split.
 * @throws {ModelError} `E_MODEL_BN_STATS` when counts are invalid or channel counts differ.
 */
export function combineMoments(a: BnMoments, b: BnMoments): CombinedMoments {
  checkMoments(a, 'first moments');
  checkMoments(b, 'second moments');
  if (a.mean.length !== b.mean.length) {
    throw new ModelError(
      'E_MODEL_BN_STATS',
      `cannot combine moments of ${a.mean.length} and ${b.mean.length} channels; both must come from the same batch-norm layer`,
    );
  }
  const channels = a.mean.length;
  const n = a.count + b.count;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  if (n === 0) return { count: 0, mean, variance };
  const wa = a.count / n;
  const wb = b.count / n;
  for (let c = 0; c < channels; c++) {
    const delta = b.mean[c] - a.mean[c];
    mean[c] = a.mean[c] + delta * wb;
    // M2/n = wa·var_a + wb·var_b + δ²·wa·wb, the Chan update divided through by n.
    variance[c] = wa * a.variance[c] + wb * b.variance[c] + delta * delta * wa * wb;
  }
  return { count: n, mean, variance };
}

/**
 * Folds `parts` left to right with {@link combineMoments}. The order is fixed so that every
 * process combining the same parts gets the same bits.
 * @throws {ModelError} `E_MODEL_BN_STATS` when `parts` is empty or the parts disagree.
 */
export function combineAllMoments(parts: readonly BnMoments[]): CombinedMoments {
  if (parts.length === 0) {
    throw new ModelError('E_MODEL_BN_STATS', 'no moments to combine; pass at least one micro-batch');
  }
  checkMoments(parts[0], 'moments 0');
  let acc: CombinedMoments = {
    count: parts[0].count,
    mean: Float64Array.from(parts[0].mean),
    variance: Float64Array.from(parts[0].variance),
  };
  for (let i = 1; i < parts.length; i++) acc = combineMoments(acc, parts[i]);
  return acc;
}

/**
 * Combines per-layer moments reported by several micro-batches: `microBatches[k][l]` is layer `l`
 * of micro-batch `k`; the result holds one {@link CombinedMoments} per layer, merged in
 * micro-batch order.
 * @throws {ModelError} `E_MODEL_BN_STATS` when micro-batches report different numbers of layers.
 */
export function combineMicroBatchMoments(microBatches: readonly (readonly BnMoments[])[]): CombinedMoments[] {
  if (microBatches.length === 0) {
    throw new ModelError('E_MODEL_BN_STATS', 'no micro-batches to combine; pass at least one');
  }
  const layers = microBatches[0].length;
  microBatches.forEach((mb, k) => {
    if (mb.length !== layers) {
      throw new ModelError(
        'E_MODEL_BN_STATS',
        `micro-batch ${k} reports ${mb.length} batch-norm layers but micro-batch 0 reports ${layers}; all must come from the same model`,
      );
    }
  });
  const out: CombinedMoments[] = [];
  for (let l = 0; l < layers; l++) out.push(combineAllMoments(microBatches.map((mb) => mb[l])));
  return out;
}

/** Length of the running-statistics vector for `specs`: mean and variance per channel. */
export function runningStatsSize(specs: readonly BnSpec[]): number {
  return specs.reduce((n, s) => n + 2 * s.channels, 0);
}

/** Fresh running statistics: every mean 0 and every variance 1 (the identity normalisation). */
export function initRunningStats(specs: readonly BnSpec[]): Float32Array {
  const out = new Float32Array(runningStatsSize(specs));
  for (const s of specs) out.fill(1, s.offset + s.channels, s.offset + 2 * s.channels);
  return out;
}

/**
 * Folds one step's batch moments (one entry per layer, in `specs` order, typically the output of
 * {@link combineMicroBatchMoments}) into `running`, in place:
 * `mean ← (1 − m)·mean + m·μ_B` and `variance ← (1 − m)·variance + m·σ²_B·n/(n − 1)`
 * (the factor only when `unbiased`, default true; m = `momentum`, default 0.1).
 * @throws {RangeError} when `momentum` is outside [0, 1].
 * @throws {ModelError} `E_MODEL_BN_STATE` when `running` has the wrong length;
 *   `E_MODEL_BN_STATS` when the moments do not match the layers, or a layer saw fewer than two
 *   values per channel while `unbiased` is set (n/(n − 1) is undefined).
 */
export function updateRunningStats(running: Float32Array, specs: readonly BnSpec[], layers: readonly BnMoments[], options: RunningStatsOptions = {}): void {
  const momentum = options.momentum ?? DEFAULT_BN_MOMENTUM;
  const unbiased = options.unbiased ?? true;
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new RangeError(
      `batch-norm momentum ${momentum} is outside [0, 1]; it is the weight of the new batch (PyTorch convention, default 0.1; Keras momentum 0.99 corresponds to 0.01)`,
    );
  }
  const size = runningStatsSize(specs);
  if (running.length !== size) {
    throw new ModelError(
      'E_MODEL_BN_STATE',
      `running statistics have ${running.length} values but the model's batch-norm layers need ${size}; create them with initRunningStats(bnSpecs)`,
    );
  }
  if (layers.length !== specs.length) {
    throw new ModelError('E_MODEL_BN_STATS', `got moments for ${layers.length} batch-norm layers but the model has ${specs.length}`);
  }
  specs.forEach((spec, l) => {
    const m = layers[l];
    checkMoments(m, `layer ${spec.name}`);
    if (m.mean.length !== spec.channels) {
      throw new ModelError('E_MODEL_BN_STATS', `layer ${spec.name} has ${spec.channels} channels but its moments have ${m.mean.length}`);
    }
    if (unbiased && m.count < 2) {
      throw new ModelError(
        'E_MODEL_BN_STATS',
        `layer ${spec.name} normalised ${m.count} value(s) per channel; the unbiased variance needs at least 2 (use a larger micro-batch, or unbiased: false)`,
      );
    }
    const correction = unbiased ? m.count / (m.count - 1) : 1;
    const meanAt = spec.offset;
    const varAt = spec.offset + spec.channels;
    for (let c = 0; c < spec.channels; c++) {
      running[meanAt + c] = (1 - momentum) * running[meanAt + c] + momentum * m.mean[c];
      running[varAt + c] = (1 - momentum) * running[varAt + c] + momentum * m.variance[c] * correction;
    }
  });
}
