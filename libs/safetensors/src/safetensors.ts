import { readFile } from 'node:fs/promises';
import { SafetensorsError } from './safetensors-error.js';
import { writeFileAtomic } from './write-file-atomic.js';

/**
 * The safetensors layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * unsigned header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__"?: { string: string } }`, then the raw little-endian tensor bytes, offsets relative
 * to the end of the header, contiguous and covering the whole rest of the file.
 */
export type DType = 'F64' | 'F32' | 'I64' | 'I32' | 'U32' | 'U8';
export type TensorData = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint32Array | Uint8Array;

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface SafetensorsFile {
  /** Tensors in file order. */
  readonly tensors: Map<string, Tensor & { readonly dtype: DType }>;
  readonly metadata: Record<string, string>;
}

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  new (length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAY_OF: Record<DType, TypedArrayConstructor> = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U32: Uint32Array,
  U8: Uint8Array,
};

/** Headers beyond this are refused before parsing: the format's reference reader uses the same bound. */
const MAX_HEADER_BYTES = 100_000_000;

function dtypeOf(data: TensorData): DType {
  for (const [dtype, ctor] of Object.entries(ARRAY_OF)) if (data instanceof ctor) return dtype as DType;
  throw new SafetensorsError('E_ST_INPUT', `unsupported array type ${Object.prototype.toString.call(data)}`);
}

function elementCount(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError('E_ST_ENTRY', `${where}: shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    }
    n *= d;
  }
  return n;
}

/**
 * Encodes tensors into one safetensors buffer. Tensors are laid out in the order given, except
 * that wider element types come first, so every tensor starts at a multiple of its element size
 * and readers can view it without copying (the same rule the reference writer follows).
 */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = Symbol.iterator in tensors ? [...tensors] : Object.entries(tensors);
  const ordered = entries
    .map(([name, tensor], index) => ({ name, tensor, index, dtype: dtypeOf(tensor.data) }))
    .sort((a, b) => ARRAY_OF[b.dtype].BYTES_PER_ELEMENT - ARRAY_OF[a.dtype].BYTES_PER_ELEMENT || a.index - b.index);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, tensor, dtype } of ordered) {
    if (name === '__metadata__' || Object.hasOwn(header, name)) {
      throw new SafetensorsError('E_ST_INPUT', `tensor name "${name}" is reserved or repeated; give each tensor a unique name`);
    }
    if (elementCount(tensor.shape, name) !== tensor.data.length) {
      throw new SafetensorsError(
        'E_ST_INPUT',
        `tensor "${name}": shape ${JSON.stringify(tensor.shape)} holds ${elementCount(tensor.shape, name)} elements but the data has ${tensor.data.length}`,
      );
    }
    const end = offset + tensor.data.byteLength;
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const { tensor } of ordered) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), at);
    at += tensor.data.byteLength;
  }
  return out;
}

interface RawEntry {
  dtype?: unknown;
  shape?: unknown;
  data_offsets?: unknown;
}

function parseHeader(bytes: Uint8Array, source: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError('E_ST_TRUNCATED', `${source}: ${bytes.byteLength} bytes is shorter than the 8-byte header length`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw new SafetensorsError(
      'E_ST_TRUNCATED',
      `${source}: header length ${length} exceeds the file (${bytes.byteLength} bytes) or the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const dataStart = 8 + Number(length);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, dataStart - 8).toString('utf8'));
  } catch (error) {
    throw new SafetensorsError('E_ST_HEADER', `${source}: header is not valid JSON`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('E_ST_HEADER', `${source}: header must be a JSON object`);
  }
  return { header: header as Record<string, unknown>, dataStart };
}

function parseMetadata(value: unknown, source: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new SafetensorsError('E_ST_HEADER', `${source}: __metadata__ must map strings to strings`);
  }
  return { ...(value as Record<string, string>) };
}

/**
 * Decodes a safetensors buffer. Tensors whose bytes are aligned to their element size are views
 * into `bytes` (no copy); others are copied. Every offset is checked: the entries must be
 * contiguous, in bounds, sized by their shape, and cover the whole data section.
 * @throws {SafetensorsError} naming the tensor and what is wrong.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const { header, dataStart } = parseHeader(bytes, source);
  const metadata = parseMetadata(header.__metadata__, source);
  const dataLength = bytes.byteLength - dataStart;
  const parsed = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, raw]) => {
      const entry = (raw ?? {}) as RawEntry;
      const where = `${source}: tensor "${name}"`;
      if (typeof entry.dtype !== 'string' || !Object.hasOwn(ARRAY_OF, entry.dtype)) {
        throw new SafetensorsError('E_ST_ENTRY', `${where}: dtype ${JSON.stringify(entry.dtype)} is not one of ${Object.keys(ARRAY_OF).join(', ')}`);
      }
      const dtype = entry.dtype as DType;
      if (!Array.isArray(entry.shape)) throw new SafetensorsError('E_ST_ENTRY', `${where}: shape must be an array`);
      const shape = entry.shape as number[];
      const count = elementCount(shape, where);
      const offsets = entry.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
        throw new SafetensorsError('E_ST_ENTRY', `${where}: data_offsets must be two non-negative integers`);
      }
      const [begin, end] = offsets as [number, number];
      if (end - begin !== count * ARRAY_OF[dtype].BYTES_PER_ELEMENT) {
        throw new SafetensorsError(
          'E_ST_ENTRY',
          `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${count * ARRAY_OF[dtype].BYTES_PER_ELEMENT}`,
        );
      }
      return { name, dtype, shape, begin, end, count };
    })
    .sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const entry of parsed) {
    if (entry.begin !== expected) {
      throw new SafetensorsError(
        'E_ST_LAYOUT',
        `${source}: tensor "${entry.name}" starts at byte ${entry.begin}, expected ${expected} (entries must be contiguous)`,
      );
    }
    expected = entry.end;
  }
  if (expected !== dataLength) {
    throw new SafetensorsError(
      expected > dataLength ? 'E_ST_TRUNCATED' : 'E_ST_LAYOUT',
      `${source}: tensors cover ${expected} bytes but the data section has ${dataLength}`,
    );
  }
  const tensors = new Map<string, Tensor & { dtype: DType }>();
  for (const { name, dtype, shape, begin, count } of parsed) {
    const ctor = ARRAY_OF[dtype];
    const at = bytes.byteOffset + dataStart + begin;
    let data: TensorData;
    if (at % ctor.BYTES_PER_ELEMENT === 0) {
      data = new ctor(bytes.buffer, at, count);
    } else {
      data = new ctor(count);
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + begin + data.byteLength));
    }
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

/** Writes tensors to `path` atomically (see `writeFileAtomic`). */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor]> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const bytes = await readFile(path);
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
