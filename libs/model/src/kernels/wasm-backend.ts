import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The wasm backend as our kernels see it: tensors live on its heap, addressed by `dataId`. */
export type WasmBackend = BackendWasm;

/**
 * A `Float32Array` view of a float32 tensor on the wasm heap (no copy).
 *
 * The view is invalidated when the heap grows (any allocation may grow it), so take views only
 * after every output of a kernel has been allocated, and do not keep them.
 */
export function heapF32(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A float32 tensor on the wasm heap, allocated but not initialised. */
export function allocF32(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** The same data seen with another shape, as the backend's own `Reshape` does (no copy, one more reference). */
export function reshapeInfo(backend: WasmBackend, info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  backend.incRef(info.dataId);
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/**
 * Runs another kernel of the wasm backend directly, without the engine: no tensor objects, no
 * tape, no profiling. The caller owns the result and must release it with `backend.disposeData`
 * unless it returns it.
 */
export function runWasmKernel(kernelName: string, backend: WasmBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (kernel === undefined) {
    throw new Error(
      `Kernel '${kernelName}' is not registered for the wasm backend; import '@tensorflow/tfjs-backend-wasm' before registering the training kernels.`,
    );
  }
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}
