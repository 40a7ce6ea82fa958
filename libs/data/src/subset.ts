import { DataOptionError } from './data-error.js';
import type { Split } from './dataset-types.js';

/**
 * A new split holding copies of the samples at `indices`, in that order: how a holdout or k-fold
 * division (`holdoutSplit`, `kFold`) becomes splits a data plan and `gather` can use.
 * @throws {DataOptionError} an index outside the split.
 */
export function subset(split: Split, indices: ArrayLike<number>): Split {
  const { features } = split;
  const count = indices.length;
  const images = split.images instanceof Uint8Array ? new Uint8Array(count * features) : new Float32Array(count * features);
  const labels = new Uint8Array(count);
  for (let s = 0; s < count; s++) {
    const index = indices[s];
    if (!(Number.isInteger(index) && index >= 0 && index < split.count)) {
      throw new DataOptionError(
        'E_DATA_OPTION',
        `indices[${s}]`,
        index,
        `subset: indices[${s}] = ${index} is not a sample of this split (integers 0..${split.count - 1})`,
      );
    }
    images.set(split.images.subarray(index * features, (index + 1) * features), s * features);
    labels[s] = split.labels[index];
  }
  return { images, labels, count, features };
}
