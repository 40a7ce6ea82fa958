import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { sumLeadingAxes } from './sum-leading-axes.js';
import { allocF32, heapF32, type WasmBackend } from './wasm-backend.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap };

/**
 * `Sum` or `Mean` for the wasm backend with a fast path for float32 reductions over leading
 * axes `[0, r)` (the gradient of a per-channel bias or batch-norm statistic over NHWC
 * activations reduces axes 0, 1, 2). The backend's own kernel first transposes the reduced axes
 * to the end, costing a full copy; here columns are summed in place. Every other case goes to
 * the backend's own kernel unchanged.
 */
export function leadingAxesReduction(kind: 'Sum' | 'Mean', original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs['x']!;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return original(args);

    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const outShape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
    const out = allocF32(backend, outShape);
    const scale = kind === 'Mean' ? 1 / rows : 1;
    sumLeadingAxes(heapF32(backend, x), rows, util.sizeFromShape(kept), scale, heapF32(backend, out));
    return out;
  };
}
