import { ProtocolError } from './errors.js';
import { frameInPlace } from './headroom.js';
import { DEFAULT_MAX_HEADER_BYTES, PREFIX_BYTES, TENSOR_ALIGN } from './limits.js';
import { packHeader, unpackHeader } from './msgpack.js';
import type { WireStats } from './stats.js';

/**
 * Frame layout (all integers little-endian):
 *
 *   0      2    3     4            8              8+H        P = align8(8+H)
 *   ┌──────┬────┬─────┬────────────┬──────────────┬──────────┬─────────────────────────────┐
 *   │ "DP" │ 01 │ 00  │ H (u32)    │ msgpack hdr  │ 0-padding│ tensor bytes, each at +8k   │
 *   └──────┴────┴─────┴────────────┴──────────────┴──────────┴─────────────────────────────┘
 *   magic  fmt  flags  header size  [body, table]             raw float32 or bytes, zero-padded to 8
 *
 * `table` lists each tensor as [field, dtype ("f32" or "u8"), byteOffset from P, element count].
 * Because P and every byteOffset are multiples of 8, a Float32Array can view the received bytes in
 * place whenever the transport's buffer itself starts 4-aligned; a Uint8Array always can.
 */
export const FRAME_MAGIC = 'DP';
export const FRAME_FORMAT = 1;
export const DTYPE_F32 = 'f32';
/** Raw bytes, e.g. a lease's sample images and labels (a frame without one is the same as before it existed). */
export const DTYPE_U8 = 'u8';
export type TensorDtype = typeof DTYPE_F32 | typeof DTYPE_U8;
export type TensorData = Float32Array | Uint8Array;

const BYTES_PER_ELEMENT: Readonly<Record<TensorDtype, number>> = { f32: 4, u8: 1 };

/** A named tensor carried after the header: float32 values or raw bytes. */
export interface FrameTensor {
  readonly field: string;
  readonly data: TensorData;
}

/** The dtype a tensor travels as. */
export function dtypeOf(data: TensorData): TensorDtype {
  return data instanceof Float32Array ? DTYPE_F32 : DTYPE_U8;
}

export interface DecodedFrame {
  /** The message's non-tensor fields, checked to be a plain object. */
  readonly body: Record<string, unknown>;
  readonly tensors: readonly FrameTensor[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ZEROS = new Uint8Array(TENSOR_ALIGN);

const align = (n: number): number => Math.ceil(n / TENSOR_ALIGN) * TENSOR_ALIGN;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) {
    throw new RangeError('dptrain frames carry little-endian float32 bytes and this host is big-endian; help: run on a little-endian machine');
  }
}

export interface EncodeOptions {
  /**
   * When the only tensor comes from allocateTensor(), write the header into its headroom and return
   * the whole frame as one view of the tensor's buffer. The caller must pass the parts to
   * releaseFrame() once they are written. @default false
   */
  readonly inPlace?: boolean;
}

/**
 * Encodes a frame as a list of parts whose concatenation is the frame: the prefix with header and
 * padding, then each tensor's own bytes (views, not copies) and its padding; or, with `inPlace`,
 * one part viewing a headroom tensor's buffer. The tensors must not be modified until the parts
 * have been written out.
 */
export function encodeFrame(body: Record<string, unknown>, tensors: readonly FrameTensor[], options: EncodeOptions = {}): Uint8Array[] {
  requireLittleEndian();
  const table: [string, string, number, number][] = [];
  let offset = 0;
  for (const { field, data } of tensors) {
    table.push([field, dtypeOf(data), offset, data.length]);
    offset += align(data.byteLength);
  }
  const header = packHeader([body, table]);
  const dataStart = align(PREFIX_BYTES + header.length);
  const head = new Uint8Array(dataStart);
  head[0] = FRAME_MAGIC.charCodeAt(0);
  head[1] = FRAME_MAGIC.charCodeAt(1);
  head[2] = FRAME_FORMAT;
  new DataView(head.buffer).setUint32(4, header.length, true);
  head.set(header, PREFIX_BYTES);

  const only = tensors.length === 1 ? tensors[0].data : undefined;
  if (options.inPlace && only instanceof Float32Array) {
    const frame = frameInPlace(only, head);
    if (frame) return [frame];
  }
  const parts: Uint8Array[] = [head];
  for (const { data } of tensors) {
    if (data.byteLength === 0) continue;
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const pad = align(data.byteLength) - data.byteLength;
    if (pad > 0) parts.push(ZEROS.subarray(0, pad));
  }
  return parts;
}

/** Joins encoded parts into one contiguous frame (one copy). */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const frame = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

export function partsLength(parts: readonly Uint8Array[]): number {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  return length;
}

/**
 * Decodes the frame layout: prefix, header (plain data only, see assertPlain) and tensor table.
 * Tensors come back as Float32Array ("f32") or Uint8Array ("u8") views over `bytes`; when the frame
 * has an f32 tensor and its tensor region is not 4-aligned in its ArrayBuffer, the region is copied
 * once and `stats.unalignedCopies` is incremented.
 *
 * @param maxHeaderBytes longest accepted header. @default DEFAULT_MAX_HEADER_BYTES
 * @throws ProtocolError E_MALFORMED, E_TOO_LARGE or E_NON_FINITE (in the header)
 */
export function decodeFrame(bytes: Uint8Array, maxHeaderBytes: number = DEFAULT_MAX_HEADER_BYTES, stats?: WireStats): DecodedFrame {
  requireLittleEndian();
  if (bytes.byteLength < PREFIX_BYTES) {
    throw new ProtocolError('E_MALFORMED', `frame of ${bytes.byteLength} bytes is shorter than the ${PREFIX_BYTES}-byte prefix`);
  }
  if (bytes[0] !== FRAME_MAGIC.charCodeAt(0) || bytes[1] !== FRAME_MAGIC.charCodeAt(1)) {
    throw new ProtocolError('E_MALFORMED', `frame starts with bytes 0x${hex(bytes[0])} 0x${hex(bytes[1])}, not the magic "DP"`);
  }
  if (bytes[2] !== FRAME_FORMAT || bytes[3] !== 0) {
    throw new ProtocolError('E_MALFORMED', `frame format ${bytes[2]} with flags ${bytes[3]}; this build reads format ${FRAME_FORMAT} with flags 0`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, PREFIX_BYTES).getUint32(4, true);
  if (headerLength > maxHeaderBytes) {
    throw new ProtocolError('E_TOO_LARGE', `frame header of ${headerLength} bytes exceeds maxHeaderBytes ${maxHeaderBytes}`);
  }
  const dataStart = align(PREFIX_BYTES + headerLength);
  if (PREFIX_BYTES + headerLength > bytes.byteLength) {
    throw new ProtocolError('E_MALFORMED', `frame header declares ${headerLength} bytes but only ${bytes.byteLength - PREFIX_BYTES} follow the prefix`);
  }
  const header = unpackHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  if (!Array.isArray(header) || header.length !== 2 || !isRecord(header[0]) || !Array.isArray(header[1])) {
    throw new ProtocolError('E_MALFORMED', 'frame header is not [message fields, tensor table]');
  }
  const [body, table] = header as [Record<string, unknown>, unknown[]];
  const dataLength = Math.max(0, bytes.byteLength - dataStart);
  const entries = readTable(table, dataLength);
  const last = entries.at(-1);
  const end = last === undefined ? 0 : align(last.offset + BYTES_PER_ELEMENT[last.dtype] * last.length);
  if (bytes.byteLength !== dataStart + end) {
    throw new ProtocolError('E_MALFORMED', `frame is ${bytes.byteLength} bytes; its header and tensor table account for ${dataStart + end}`);
  }

  let buffer = bytes.buffer;
  let base = bytes.byteOffset + dataStart;
  if (base % 4 !== 0 && entries.some((e) => e.dtype === DTYPE_F32)) {
    const copy = new Uint8Array(end);
    copy.set(bytes.subarray(dataStart));
    buffer = copy.buffer;
    base = 0;
    if (stats) stats.unalignedCopies++;
  }
  const tensors = entries.map(({ field, dtype, offset, length }) => ({
    field,
    data: dtype === DTYPE_F32 ? new Float32Array(buffer, base + offset, length) : new Uint8Array(buffer, base + offset, length),
  }));
  return { body, tensors };
}

interface TableEntry {
  field: string;
  dtype: TensorDtype;
  offset: number;
  length: number;
}

function readTable(table: unknown[], dataLength: number): TableEntry[] {
  const entries: TableEntry[] = [];
  const seen = new Set<string>();
  let next = 0;
  for (let i = 0; i < table.length; i++) {
    const entry = table[i];
    const where = `tensor table entry ${i}`;
    if (!Array.isArray(entry) || entry.length !== 4 || typeof entry[0] !== 'string') {
      throw new ProtocolError('E_MALFORMED', `${where} is not [field, dtype, byteOffset, length]`);
    }
    const [field, dtype, offset, length] = entry as [string, unknown, unknown, unknown];
    if (seen.has(field)) throw new ProtocolError('E_MALFORMED', `${where} repeats the field "${field}"`);
    seen.add(field);
    if (dtype !== DTYPE_F32 && dtype !== DTYPE_U8) {
      throw new ProtocolError('E_MALFORMED', `${where} (${field}) has dtype ${JSON.stringify(dtype)}; only "${DTYPE_F32}" and "${DTYPE_U8}" are carried`);
    }
    const size = BYTES_PER_ELEMENT[dtype];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < next || offset % TENSOR_ALIGN !== 0) {
      throw new ProtocolError(
        'E_MALFORMED',
        `${where} (${field}) has byteOffset ${String(offset)}; expected a multiple of ${TENSOR_ALIGN} at or after ${next}`,
      );
    }
    // length ≤ dataLength first, so that size × length stays a safe integer.
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > dataLength || offset + size * length > dataLength) {
      throw new ProtocolError(
        'E_MALFORMED',
        `${where} (${field}) declares ${String(length)} ${dtype === DTYPE_F32 ? 'floats' : 'bytes'} at byte ${offset} but the frame carries ${dataLength} tensor bytes`,
      );
    }
    entries.push({ field, dtype, offset, length });
    next = align(offset + size * length);
  }
  return entries;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
