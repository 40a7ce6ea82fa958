import { checkInteger, checkSeed } from './check-options.js';
import { DataOptionError } from './data-error.js';
import { shuffleInPlace } from './permutation.js';
import { deriveSeed, Mulberry32 } from '@dptrain/random';
import { STREAM } from './streams.js';

/** What a split is drawn from: a sample count and, to stratify, one label per sample (a `Split` fits). */
export interface SplitSource {
  readonly count: number;
  readonly labels?: ArrayLike<number>;
}

/** Sample indices of one train/validation division, each ascending, disjoint, together all samples. */
export interface SplitIndices {
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
}

export interface HoldoutOptions {
  /** Share of the samples held out for validation, strictly between 0 and 1. */
  readonly fraction: number;
  /** Unsigned 32-bit seed. */
  readonly seed: number;
  /** Hold out the same share of every class (needs `labels`). @default false */
  readonly stratify?: boolean;
}

export interface KFoldOptions {
  /** Number of folds, 2..count. */
  readonly k: number;
  /** Unsigned 32-bit seed. */
  readonly seed: number;
  /** Give every fold the same class proportions, ±1 sample per class (needs `labels`). @default false */
  readonly stratify?: boolean;
}

/**
 * Holdout validation: shuffle (Fisher–Yates, mulberry32 from `deriveSeed(seed, STREAM.holdout)`)
 * and keep the first `round(fraction × count)` samples for validation. Stratified, the same is done
 * within each class (classes in label order, one generator for all), holding out
 * `round(fraction × classCount)` of each.
 *
 * @throws {DataOptionError} fraction outside (0, 1), or a split that leaves one side empty.
 */
export function holdoutSplit(source: SplitSource, options: HoldoutOptions): SplitIndices {
  const { fraction } = options;
  if (!(typeof fraction === 'number' && fraction > 0 && fraction < 1)) {
    throw new DataOptionError('E_DATA_OPTION', 'fraction', fraction, `holdout fraction must be strictly between 0 and 1, got ${String(fraction)}`);
  }
  const rng = new Mulberry32(deriveSeed(checkSeed('seed', options.seed), STREAM.holdout));
  const groups = shuffledGroups(source, options.stratify ?? false, rng);
  const inValidation = new Uint8Array(source.count);
  for (const group of groups) {
    const take = Math.round(fraction * group.length);
    for (let i = 0; i < take; i++) inValidation[group[i]] = 1;
  }
  const result = partition(inValidation, 1);
  if (result.validation.length === 0 || result.train.length === 0) {
    throw new DataOptionError(
      'E_DATA_OPTION',
      'fraction',
      fraction,
      `holdout fraction ${fraction} of ${source.count} samples leaves ${result.train.length} for training and ${result.validation.length} for validation; both need at least one`,
    );
  }
  return result;
}

/**
 * k-fold cross-validation: the samples in shuffled order (Fisher–Yates, mulberry32 from
 * `deriveSeed(seed, STREAM.kFold)`; stratified, each class shuffled and the classes concatenated
 * in label order) are dealt round-robin, position j to fold j mod k. Fold sizes therefore differ by
 * at most one (the first `count mod k` folds get the extra sample), and stratified folds hold every
 * class within ±1 of its share. Result f validates on fold f and trains on the others.
 *
 * @throws {DataOptionError} k outside 2..count.
 */
export function kFold(source: SplitSource, options: KFoldOptions): SplitIndices[] {
  const k = checkInteger('k', options.k, 2);
  if (k > source.count) {
    throw new DataOptionError('E_DATA_OPTION', 'k', k, `k-fold needs at least k samples: k = ${k}, count = ${source.count}`);
  }
  const rng = new Mulberry32(deriveSeed(checkSeed('seed', options.seed), STREAM.kFold));
  const fold = new Uint32Array(source.count);
  let position = 0;
  for (const group of shuffledGroups(source, options.stratify ?? false, rng)) {
    for (const index of group) fold[index] = position++ % k;
  }
  return Array.from({ length: k }, (_, f) => partition(fold, f));
}

/** The sample indices, shuffled: one group, or one group per class in label order. */
function shuffledGroups(source: SplitSource, stratify: boolean, rng: Mulberry32): Uint32Array[] {
  checkInteger('count', source.count, 1, 0xffff_ffff);
  if (!stratify) {
    return [
      shuffleInPlace(
        Uint32Array.from({ length: source.count }, (_, i) => i),
        rng,
      ),
    ];
  }
  const labels = source.labels;
  if (labels === undefined || labels.length !== source.count) {
    throw new DataOptionError(
      'E_DATA_OPTION',
      'stratify',
      true,
      `stratify needs one label per sample: got ${labels === undefined ? 'no labels' : `${labels.length} labels`} for ${source.count} samples; pass the split itself or set stratify: false`,
    );
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < source.count; i++) {
    const members = byClass.get(labels[i]);
    if (members === undefined) byClass.set(labels[i], [i]);
    else members.push(i);
  }
  return [...byClass.keys()].sort((a, b) => a - b).map((label) => shuffleInPlace(Uint32Array.from(byClass.get(label)!), rng));
}

/** Indices whose mark equals `chosen` go to validation, the rest to train; both ascending. */
function partition(marks: Uint8Array | Uint32Array, chosen: number): SplitIndices {
  let chosenCount = 0;
  for (const mark of marks) if (mark === chosen) chosenCount++;
  const validation = new Uint32Array(chosenCount);
  const train = new Uint32Array(marks.length - chosenCount);
  let v = 0;
  let t = 0;
  for (let i = 0; i < marks.length; i++) {
    if (marks[i] === chosen) validation[v++] = i;
    else train[t++] = i;
  }
  return { train, validation };
}
