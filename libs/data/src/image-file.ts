import { readFile } from 'node:fs/promises';
import { DataError } from './data-error.js';
import { readIdxFile } from './idx.js';
import { decodeGrayPng, isPng } from './png.js';

/** Images read from one file, as the data sets store them: `count × rows × cols` bytes, row-major, 0 black. */
export interface ImageFile {
  readonly format: 'png' | 'idx';
  readonly images: Uint8Array;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Reads images to classify: a PNG (one image, made grayscale: see decodeGrayPng) or an IDX file of
 * `N × rows × cols` unsigned bytes such as Fashion-MNIST's t10k-images-idx3-ubyte (gzipped or not).
 * @param size the model's input size; images of another size are refused, not resized.
 * @throws {DataError} E_IMAGE_MISSING, E_IMAGE_FORMAT (neither format), E_IMAGE_SIZE, or a damaged IDX file's E_IDX_* code, each naming the file.
 */
export async function readImageFile(path: string, size: { readonly rows: number; readonly cols: number }): Promise<ImageFile> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'EISDIR') throw error;
    throw new DataError(
      'E_IMAGE_MISSING',
      `${path} ${error.code === 'ENOENT' ? 'does not exist' : 'is a folder'}; give the path of a PNG image or of an IDX image file`,
      { path, cause: error },
    );
  });
  const expected = `${size.cols}×${size.rows}`;
  if (isPng(bytes)) {
    const { rows, cols, data } = decodeGrayPng(bytes, path);
    if (rows !== size.rows || cols !== size.cols) {
      throw new DataError('E_IMAGE_SIZE', `${path} is ${cols}×${rows} pixels but the model takes ${expected} images; resize it to ${expected}`, { path });
    }
    return { format: 'png', images: data, count: 1, rows, cols };
  }
  let idx;
  try {
    idx = await readIdxFile(path, 3);
  } catch (error) {
    if (!(error instanceof DataError && error.code === 'E_IDX_BAD_MAGIC')) throw error;
    throw new DataError(
      'E_IMAGE_FORMAT',
      `${path} is neither a PNG nor an IDX file of images (N × rows × columns unsigned bytes, magic 0x00000803); give PNG images or an IDX image file such as t10k-images-idx3-ubyte.gz`,
      { path, cause: error },
    );
  }
  const [count, rows, cols] = idx.dims;
  if (rows !== size.rows || cols !== size.cols) {
    throw new DataError('E_IMAGE_SIZE', `${path} holds images of ${cols}×${rows} pixels but the model takes ${expected} images; give images of that size`, {
      path,
    });
  }
  return { format: 'idx', images: idx.data, count, rows, cols };
}
