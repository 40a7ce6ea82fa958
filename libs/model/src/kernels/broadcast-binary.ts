import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { repeatPattern } from './repeat-pattern.js';
import { allocF32, heapF32, type WasmBackend } from './wasm-backend.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };

/** Below this many output values the backend's broadcasting is cheap enough to leave alone. */
const MIN_SIZE = 1024;

/**
 * A binary element-wise kernel (`Add`, `Sub`, `Multiply`, `RealDiv`) for the wasm backend with a
 * fast path for the broadcast that batch norm and biases make: a float32 tensor of shape S with
 * one whose shape, without leading 1s, is a suffix of S (a per-channel vector against NHWC
 * activations). The backend's own kernel computes an index per element for any broadcast, about
 * 0.85 ms for 64×28×28×16 against 0.1 ms without broadcast; here the small operand is first
 * repeated to S with block copies (~0.1 ms) and the backend's kernel runs without broadcast.
 * Each element is the same IEEE operation on the same two values, so the result has the same
 * bits. Every other case goes to the backend's own kernel unchanged.
 */
export function repeatedBroadcast(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const a = inputs['a']!;
    const b = inputs['b']!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const [big, small, smallName] = util.sizeFromShape(a.shape) >= util.sizeFromShape(b.shape) ? [a, b, 'b'] : [b, a, 'a'];
    const bigSize = util.sizeFromShape(big.shape);
    const smallSize = util.sizeFromShape(small.shape);
    if (bigSize < MIN_SIZE || smallSize <= 1 || smallSize === bigSize || !isTrailing(small.shape, big.shape)) return original(args);

    const full = allocF32(backend, big.shape);
    repeatPattern(heapF32(backend, small), heapF32(backend, full));
    const out = original({ inputs: { ...inputs, [smallName]: full }, backend, attrs });
    backend.disposeData(full.dataId);
    return out;
  };
}

/** True when `small` without its leading 1s equals the last dimensions of `big`. */
function isTrailing(small: readonly number[], big: readonly number[]): boolean {
  let start = 0;
  while (start < small.length && small[start] === 1) start++;
  const core = small.slice(start);
  if (core.length > big.length) return false;
  const offset = big.length - core.length;
  return core.every((d, i) => d === big[offset + i]);
}
