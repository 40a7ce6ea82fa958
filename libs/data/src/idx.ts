import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataError } from './data-error.js';
import { unpackedCopy } from './unpacked-copy.js';

const gunzipAsync = promisify(gunzip);

/** IDX element type 0x08: unsigned bytes, the only one the image data sets use. */
const UBYTE = 0x08;

/** An unsigned-byte IDX array: its dimensions (outermost first) and its elements in row-major order. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses an IDX file (LeCun's format): a big-endian 32-bit magic number `0x0000TTDD` (TT the
 * element type, DD the number of dimensions), DD big-endian 32-bit sizes, then the elements.
 * Only unsigned bytes (TT = 0x08) with exactly `expectedDims` dimensions are accepted.
 *
 * @param path names the file in error messages.
 * @returns `data` is a view of `bytes`, not a copy.
 * @throws {DataError} E_IDX_BAD_MAGIC, E_IDX_TRUNCATED or E_IDX_TRAILING_DATA, naming the file.
 */
export function parseIdx(bytes: Uint8Array, path: string, expectedDims: number): IdxArray {
  const expectedMagic = (UBYTE << 8) | expectedDims;
  if (bytes.length < 4) {
    throw new DataError('E_IDX_TRUNCATED', `${path}: ${bytes.length} bytes, too short for an IDX header; ${REPLACE_HINT}`, { path });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new DataError(
      'E_IDX_BAD_MAGIC',
      `${path}: IDX magic number is ${hex(magic)} (${describeMagic(magic)}), expected ${hex(expectedMagic)} (${describeMagic(expectedMagic)}); ` +
        `the file is not the ${expectedDims === 1 ? 'label' : 'image'} file it is named for, ${REPLACE_HINT}`,
      { path },
    );
  }
  const headerLength = 4 + 4 * expectedDims;
  if (bytes.length < headerLength) {
    throw new DataError('E_IDX_TRUNCATED', `${path}: ${bytes.length} bytes, the IDX header alone needs ${headerLength}; ${REPLACE_HINT}`, { path });
  }
  const dims: number[] = [];
  for (let d = 0; d < expectedDims; d++) dims.push(view.getUint32(4 + 4 * d));
  const elements = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerLength;
  if (available < elements) {
    throw new DataError(
      'E_IDX_TRUNCATED',
      `${path}: header announces ${dims.join(' × ')} = ${elements} bytes of data but only ${available} follow; the file is truncated, ${REPLACE_HINT}`,
      { path },
    );
  }
  if (available > elements) {
    throw new DataError(
      'E_IDX_TRAILING_DATA',
      `${path}: header announces ${dims.join(' × ')} = ${elements} bytes of data but ${available} follow; the file is not the one its header describes, ${REPLACE_HINT}`,
      { path },
    );
  }
  // A plain Uint8Array view even when `bytes` is a Node Buffer, so callers never see Buffer semantics.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, elements) };
}

/** Encodes an unsigned-byte IDX file (the inverse of `parseIdx`); used to write fixtures and caches. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const elements = dims.reduce((a, b) => a * b, 1);
  if (elements !== data.length) {
    throw new RangeError(`encodeIdx: dims ${dims.join(' × ')} = ${elements} elements, data has ${data.length}`);
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length);
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * Reads and parses an IDX file, gunzipping it first when it starts with the gzip magic bytes
 * 1f 8b (whatever its name). With `unpackedDir`, a gzipped file's inflated copy is read from that
 * folder when one matches the file as it is now, and kept there otherwise (unpacked-copy.ts).
 * @throws {DataError} E_IDX_BAD_GZIP or E_IDX_TRUNCATED for a damaged gzip stream, else as `parseIdx`.
 */
export async function readIdxFile(path: string, expectedDims: number, options: { readonly unpackedDir?: string } = {}): Promise<IdxArray> {
  let bytes: Uint8Array = await readFile(path);
  if (!isGzip(bytes)) return parseIdx(bytes, path, expectedDims);
  const copy = options.unpackedDir === undefined ? undefined : await unpackedCopy(path, options.unpackedDir);
  const kept = await copy?.read();
  if (kept) {
    try {
      return parseIdx(kept, path, expectedDims);
    } catch {
      await copy!.drop();
    }
  }
  try {
    bytes = await gunzipAsync(bytes);
  } catch (error) {
    const truncated = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR';
    throw new DataError(
      truncated ? 'E_IDX_TRUNCATED' : 'E_IDX_BAD_GZIP',
      `${path}: ${truncated ? 'the gzip stream ends early (truncated file)' : `not a valid gzip stream (${(error as Error).message})`}; ${REPLACE_HINT}`,
      { path, cause: error },
    );
  }
  const parsed = parseIdx(bytes, path, expectedDims);
  await copy?.keep(bytes);
  return parsed;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const REPLACE_HINT = 'replace it with the original (delete it from the cache to download it again, or reinstall the package it came from)';

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function describeMagic(magic: number): string {
  if (magic >>> 16 !== 0) return 'not an IDX file';
  const type = (magic >>> 8) & 0xff;
  const dims = magic & 0xff;
  const typeName = ({ 0x08: 'unsigned bytes', 0x09: 'signed bytes', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' } as Record<number, string>)[
    type
  ];
  return `${typeName ?? `unknown type 0x${type.toString(16)}`}, ${dims} dimension${dims === 1 ? '' : 's'}`;
}
