import { DataError } from './data-error.js';
import type { Split } from './dataset-types.js';
import { readIdxFile } from './idx.js';

export interface ImageFormat {
  readonly rows: number;
  readonly cols: number;
  readonly numClasses: number;
}

/**
 * Reads an image file (IDX, N × rows × cols bytes) and its label file (IDX, N bytes) into a split,
 * after checking that they agree: same N, the expected image size, every label below numClasses.
 * @throws {DataError} E_IDX_BAD_SHAPE, E_IDX_MISMATCH or E_IDX_BAD_LABEL naming the file(s), or any
 *   error of `readIdxFile`.
 */
export async function readIdxSplit(
  imagesPath: string,
  labelsPath: string,
  format: ImageFormat,
  options: { readonly unpackedDir?: string } = {},
): Promise<Split> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath, 3, options), readIdxFile(labelsPath, 1, options)]);
  const [count, rows, cols] = images.dims;
  if (rows !== format.rows || cols !== format.cols) {
    throw new DataError(
      'E_IDX_BAD_SHAPE',
      `${imagesPath}: images are ${rows} × ${cols} pixels, this data set's are ${format.rows} × ${format.cols}; the file belongs to another data set, replace it with the original`,
      { path: imagesPath },
    );
  }
  if (labels.dims[0] !== count) {
    throw new DataError(
      'E_IDX_MISMATCH',
      `${imagesPath} holds ${count} images but ${labelsPath} holds ${labels.dims[0]} labels; the two files come from different releases or splits, replace them with a matching pair`,
      { path: labelsPath },
    );
  }
  const labelData = labels.data;
  for (let i = 0; i < labelData.length; i++) {
    if (labelData[i] >= format.numClasses) {
      throw new DataError(
        'E_IDX_BAD_LABEL',
        `${labelsPath}: label ${labelData[i]} at sample ${i} is not a class of this data set (0..${format.numClasses - 1}); the file is damaged or from another data set, replace it with the original`,
        { path: labelsPath },
      );
    }
  }
  return { images: images.data, labels: labelData, count, features: rows * cols };
}
