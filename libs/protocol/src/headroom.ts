import { TENSOR_ALIGN, requireCount } from './limits.js';

/**
 * Bytes reserved in front of a tensor from allocateTensor() for a frame's prefix and header (a
 * push or params header takes ~130 bytes; the rest is margin for long field values).
 */
export const TENSOR_HEADROOM = 1024;

const withHeadroom = new WeakSet<Float32Array>();
const inFlight = new WeakSet<Float32Array>();
const tensorOfFrame = new WeakMap<Uint8Array, Float32Array>();

const align = (n: number): number => Math.ceil(n / TENSOR_ALIGN) * TENSOR_ALIGN;

/**
 * A zero-filled Float32Array of `length` values with TENSOR_HEADROOM free bytes in front of it in
 * its ArrayBuffer. When it is the only tensor of a message, Connection.send/request/reply write the
 * frame header into that room and hand the whole frame to the socket without copying the tensor.
 * Such a tensor must then not be modified until the send has resolved (for request(): until the
 * reply arrives). A second send of the same tensor while the first is in flight copies instead.
 *
 * @throws RangeError when length is not a non-negative safe integer
 * @example
 * const grads = allocateTensor(paramCount); // once per worker
 * // per micro-batch: fill grads, then
 * await ps.request({ type: 'push', ..., grads });
 */
export function allocateTensor(length: number): Float32Array {
  requireCount('length', length, 0);
  const buffer = new ArrayBuffer(TENSOR_HEADROOM + align(4 * length));
  const tensor = new Float32Array(buffer, TENSOR_HEADROOM, length);
  withHeadroom.add(tensor);
  return tensor;
}

/**
 * The bytes [header room | tensor | zero padding] as one frame, with `head` (prefix, header and
 * padding, `head.length` a multiple of 8) written just before the tensor; undefined when the tensor
 * has no free headroom (not from allocateTensor, already in flight, or header too long).
 */
export function frameInPlace(tensor: Float32Array, head: Uint8Array): Uint8Array | undefined {
  if (!withHeadroom.has(tensor) || inFlight.has(tensor) || head.length > TENSOR_HEADROOM) return undefined;
  inFlight.add(tensor);
  const start = tensor.byteOffset - head.length;
  const frame = new Uint8Array(tensor.buffer, start, head.length + align(tensor.byteLength));
  frame.set(head);
  tensorOfFrame.set(frame, tensor);
  return frame;
}

/** Marks the tensor of an in-place frame free again once its frame has been written out. */
export function releaseFrame(parts: readonly Uint8Array[]): void {
  if (parts.length !== 1) return;
  const tensor = tensorOfFrame.get(parts[0]);
  if (tensor === undefined) return;
  tensorOfFrame.delete(parts[0]);
  inFlight.delete(tensor);
}
