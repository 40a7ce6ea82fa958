import type { DatasetName } from './dataset-types.js';
import { IDX_DATASETS } from './idx-catalog.js';
import { SYNTHETIC_CLASSES, SYNTHETIC_SIDE } from './synthetic.js';

/** What a model trained on a data set takes and predicts, known without loading the data. */
export interface DatasetFormat {
  /** Shape of one sample, height × width × channels. */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** The classes' names, index = label; undefined for the generated set, whose classes are only numbers. */
  readonly classNames: readonly string[] | undefined;
}

/** The format of `name`; for `synthetic`, the generated set as `dptrain` makes it (its defaults). */
export function datasetFormat(name: DatasetName): DatasetFormat {
  if (name === 'synthetic') return { inputShape: [SYNTHETIC_SIDE, SYNTHETIC_SIDE, 1], numClasses: SYNTHETIC_CLASSES, classNames: undefined };
  const spec = IDX_DATASETS[name];
  return { inputShape: [spec.rows, spec.cols, 1], numClasses: spec.numClasses, classNames: spec.classNames };
}
