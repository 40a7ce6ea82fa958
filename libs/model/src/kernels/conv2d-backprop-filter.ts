import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { im2colTransposed } from './im2col.js';
import { allocF32, heapF32, reshapeInfo, runWasmKernel, type WasmBackend } from './wasm-backend.js';

/**
 * `Conv2DBackpropFilter` for the wasm backend: the gradient of a 2-D convolution with respect to
 * its filter, NHWC, any stride and padding ('same', 'valid', explicit), dilation 1.
 *
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − padTop, ow·sw + kw − padLeft, ci] · dy[n, oh, ow, co]
 *
 * computed as one matrix product dW = colsᵀ · dy, where colsᵀ (`[KH·KW·Cin, N·OH·OW]`) is the
 * transposed im2col of x (see `im2colTransposed`), written by JavaScript straight into the wasm
 * heap from a channel-major copy of x made by the backend's `Transpose`, and dy is seen as
 * `[N·OH·OW, Cout]`. Without transposes the backend's `BatchMatMul` runs XNNPACK's
 * fully-connected operator (SIMD); with a transpose flag it would fall back to a scalar loop.
 */
export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { inputs, backend } = args;
  const { x, dy } = inputs as unknown as tf.Conv2DBackpropFilterInputs;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfoOf(x!, attrs);
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const m = info.batchSize * info.outHeight * info.outWidth;

  // Channel-major copy of x so that im2col reads each channel plane sequentially.
  const xc = info.inChannels === 1 ? x! : runWasmKernel('Transpose', backend, { x: x! }, { perm: [3, 0, 1, 2] });
  const cols = allocF32(backend, [1, k, m]);
  im2colTransposed(heapF32(backend, xc), info, heapF32(backend, cols));
  if (xc !== x) backend.disposeData(xc.dataId);
  const dy3d = reshapeInfo(backend, dy!, [1, m, info.outChannels]);
  const dw = runWasmKernel('BatchMatMul', backend, { a: cols, b: dy3d }, { transposeA: false, transposeB: false });
  backend.disposeData(cols.dataId);
  backend.disposeData(dy3d.dataId);
  return { dataId: dw.dataId, shape: [...attrs.filterShape], dtype: 'float32' };
}

function convInfoOf(x: tf.TensorInfo, attrs: tf.Conv2DBackpropFilterAttrs): backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') {
    throw new RangeError(`Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got 'NCHW'; use channels-last tensors.`);
  }
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
