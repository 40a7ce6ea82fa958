import * as tf from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';
import { runWasmKernel, type WasmBackend } from './wasm-backend.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };

/**
 * `BatchMatMul` for the wasm backend that keeps transposed products on XNNPACK. The backend's own
 * kernel runs XNNPACK's fully-connected operator (SIMD) only for an untransposed single matrix
 * product, and a scalar triple loop otherwise — which is what the gradients of a dense layer ask
 * for (dW = xᵀ·dy, dx = dy·Wᵀ). For a single float32 product with a transpose flag, the
 * transposed operand is materialised with the backend's `Transpose` kernel first; batched
 * products (batch > 1) go to the backend's own kernel unchanged.
 */
export function transposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { a, b } = inputs as unknown as tf.BatchMatMulInputs;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const single = isSingleMatrix(a!) && isSingleMatrix(b!);
    if (!(transposeA || transposeB) || !single || a!.dtype !== 'float32' || b!.dtype !== 'float32') return original(args);

    const a2 = transposeA ? transpose2d(backend, a!) : a!;
    const b2 = transposeB ? transpose2d(backend, b!) : b!;
    const out = original({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    if (transposeA) backend.disposeData(a2.dataId);
    if (transposeB) backend.disposeData(b2.dataId);
    // Batch dimensions of size 1 are kept, as the backend's own kernel keeps them.
    const batch = broadcast_util.assertAndGetBroadcastShape(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return { dataId: out.dataId, shape: [...batch, ...out.shape.slice(-2)], dtype: out.dtype };
  };
}

function isSingleMatrix(t: tf.TensorInfo): boolean {
  return util.sizeFromShape(t.shape.slice(0, -2)) === 1;
}

function transpose2d(backend: WasmBackend, t: tf.TensorInfo): tf.TensorInfo {
  const [rows, cols] = t.shape.slice(-2) as [number, number];
  const matrix = { dataId: t.dataId, shape: [rows, cols], dtype: t.dtype };
  return runWasmKernel('Transpose', backend, { x: matrix }, { perm: [1, 0] });
}
