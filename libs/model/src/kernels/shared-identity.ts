import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-backend.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };

/**
 * `Identity` and same-dtype `Cast` for the wasm backend without a copy: the output shares the
 * input's data and takes one more reference, as the backend's own `Reshape` and the cpu
 * backend's `Identity` do (tensors are immutable, and data is freed when its last reference
 * goes). The backend's own kernels copy the whole tensor — a gradient step calls them a dozen
 * times on activation-sized tensors (tape bookkeeping, custom gradients, ReLU's
 * `cast(step(x), 'float32')`). String tensors and real casts go to the backend's own kernel.
 */
export function sharedIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs['x']!;
    // Identity may come without attributes at all (the engine's clone passes none).
    const target = (attrs as unknown as Partial<tf.CastAttrs> | undefined)?.dtype ?? x.dtype;
    if (x.dtype === 'string' || target !== x.dtype) return original(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
