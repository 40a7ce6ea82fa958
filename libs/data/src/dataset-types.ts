/** The data sets `loadDataset` knows. */
export type DatasetName = 'fashion-mnist' | 'mnist' | 'synthetic';
export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'synthetic'];

/** One part of a data set (train or test): `count` samples of `features` values each. */
export interface Split {
  /**
   * `count × features` values, sample after sample (row-major 28×28 for the image sets). Bytes
   * 0..255 are scaled to [0, 1] by `gather`; a `Float32Array` is taken as already scaled.
   */
  readonly images: Uint8Array | Float32Array;
  /** One class index 0..numClasses−1 per sample. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly features: number;
}

export interface Dataset {
  readonly name: DatasetName;
  /** Shape of one sample, height × width × channels: `[28, 28, 1]`. */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Human names of the classes, index = label. */
  readonly classNames: readonly string[];
  readonly train: Split;
  readonly test: Split;
  /** Where the data came from: a directory, or a description of the generator and its settings. */
  readonly source: string;
}

/** Samples gathered for one (micro-)batch. */
export interface Batch {
  /** `count × features` float32 inputs in [0, 1]. */
  readonly x: Float32Array;
  /** `count` class indices. */
  readonly y: Int32Array;
  readonly count: number;
}
