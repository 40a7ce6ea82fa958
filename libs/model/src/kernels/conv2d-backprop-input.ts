import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { allocF32, heapF32, runWasmKernel, type WasmBackend } from './wasm-backend.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };

/**
 * `Conv2DBackpropInput` for the wasm backend, as a forward convolution on XNNPACK. The backend's
 * own kernel is a scalar loop, 10–20× slower than the forward convolution it differentiates.
 *
 * For y[oh] = Σ_kh x[oh·s + kh − padTop]·W[kh] (per axis), the gradient is
 * dx[i] = Σ_kh up(dy)[i + padTop − kh]·W[kh], where up(dy) puts dy[oh] at oh·s and zeros between
 * (length L = (OH − 1)·s + 1). That is a stride-1 convolution of up(dy) with the filter flipped
 * in space and with in/out channels swapped, Wf[kh', kw', co, ci] = W[KH−1−kh', KW−1−kw', ci, co],
 * padded by KH − 1 − padTop before and H + padTop − L after. For stride 1, up(dy) = dy; for
 * stride 2 the zeros cost 4× the multiply-adds but still run on XNNPACK. NHWC, dilation 1;
 * paddings that would need negative padding here (explicit pads ≥ filter size) go to the
 * backend's own kernel.
 */
export function fastConv2DBackpropInput(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, filter } = inputs as unknown as tf.Conv2DBackpropInputInputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW') return original(args);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter!.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const upHeight = (info.outHeight - 1) * info.strideHeight + 1;
    const upWidth = (info.outWidth - 1) * info.strideWidth + 1;
    const top = info.filterHeight - 1 - info.padInfo.top;
    const bottom = info.inHeight + info.padInfo.top - upHeight;
    const left = info.filterWidth - 1 - info.padInfo.left;
    const right = info.inWidth + info.padInfo.left - upWidth;
    if (Math.min(top, bottom, left, right) < 0) return original(args);

    const flipped = allocF32(backend, [info.filterHeight, info.filterWidth, info.outChannels, info.inChannels]);
    const up = info.strideHeight === 1 && info.strideWidth === 1 ? dy! : allocF32(backend, [info.batchSize, upHeight, upWidth, info.outChannels]);
    flipFilter(heapF32(backend, filter!), info, heapF32(backend, flipped));
    if (up !== dy) upsample(heapF32(backend, dy!), info, heapF32(backend, up));
    const dx = runWasmKernel(
      'Conv2D',
      backend,
      { x: up, filter: flipped },
      {
        strides: 1,
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: 1,
      },
    );
    backend.disposeData(flipped.dataId);
    if (up !== dy) backend.disposeData(up.dataId);
    return dx;
  };
}

/** Wf[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]. */
function flipFilter(w: Float32Array, info: backend_util.Conv2DInfo, out: Float32Array): void {
  const { filterHeight, filterWidth, inChannels, outChannels } = info;
  let o = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const tap = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * inChannels * outChannels;
      for (let co = 0; co < outChannels; co++) {
        for (let ci = 0; ci < inChannels; ci++) out[o++] = w[tap + ci * outChannels + co];
      }
    }
  }
}

/** up[n, oh·sh, ow·sw, c] = dy[n, oh, ow, c], zero elsewhere. */
function upsample(dy: Float32Array, info: backend_util.Conv2DInfo, up: Float32Array): void {
  const { batchSize, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  const upHeight = (outHeight - 1) * strideHeight + 1;
  const upWidth = (outWidth - 1) * strideWidth + 1;
  up.fill(0);
  let src = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      let dst = (n * upHeight + oh * strideHeight) * upWidth * outChannels;
      for (let ow = 0; ow < outWidth; ow++, dst += strideWidth * outChannels) {
        for (let c = 0; c < outChannels; c++) up[dst + c] = dy[src++];
      }
    }
  }
}
