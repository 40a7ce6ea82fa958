import { PNG } from 'pngjs';
import { DataError } from './data-error.js';

/** The eight bytes every PNG file starts with. */
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** A grayscale image: `rows × cols` bytes, row-major, 0 black. */
export interface GrayImage {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
}

/**
 * Decodes a PNG of any colour type and bit depth (pngjs gives 8-bit RGBA) into grayscale bytes:
 * luma 0.299·R + 0.587·G + 0.114·B (ITU-R BT.601, as PIL's convert('L'); a gray pixel keeps its
 * value), composited over black by its alpha, since the image data sets draw light objects on a
 * black background.
 * @throws {DataError} E_IMAGE_FORMAT naming the file when it does not decode.
 */
export function decodeGrayPng(bytes: Uint8Array, path: string): GrayImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new DataError('E_IMAGE_FORMAT', `${path}: not a readable PNG (${(error as Error).message}); give an intact PNG file`, { path, cause: error });
  }
  const { width: cols, height: rows, data: rgba } = png;
  const data = new Uint8Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const [r, g, b, a] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]];
    const luma = Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000);
    data[i] = a === 255 ? luma : Math.round((luma * a) / 255);
  }
  return { rows, cols, data };
}
