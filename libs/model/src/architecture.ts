/**
 * What every architecture provides: a parameter layout and a forward pass written once for both
 * modes. The forward pass gets tensors through a {@link ForwardContext}; in training the context's
 * batch norm uses batch statistics and records them, in evaluation it uses running statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph.js';
import type { DenseLayer } from './grouped-gradients.js';
import type { BnLayer, Layout } from './layout.js';

export interface ForwardContext {
  /** The tensor declared with this index. */
  param(index: number): tf.Tensor;
  batchNorm(layer: BnLayer, x: tf.Tensor): tf.Tensor;
}

export interface Architecture {
  readonly layout: Layout;
  /** The evaluation-mode forward pass as data (graph.ts), for other frameworks. */
  readonly graph: readonly GraphNode[];
  /** Logits [N, numClasses] for `x` [N, ...inputShape]. */
  forward(ctx: ForwardContext, x: tf.Tensor): tf.Tensor2D;
  /** Set when the model is flatten → (dense → ReLU)* → dense: several micro-batches can then share one pass (grouped-gradients.ts). */
  readonly denseStack?: readonly DenseLayer[];
}

/** x·W (+ b): `x` [N, in], kernel [in, out]. */
export function dense(ctx: ForwardContext, x: tf.Tensor, kernel: number, bias?: number): tf.Tensor2D {
  const y = tf.matMul(x, ctx.param(kernel)) as tf.Tensor2D;
  return bias === undefined ? y : (tf.add(y, ctx.param(bias)) as tf.Tensor2D);
}

/** Stride-1 'same' convolution (+ b): `x` NHWC, kernel [kh, kw, in, out]. */
export function conv(ctx: ForwardContext, x: tf.Tensor, kernel: number, bias?: number): tf.Tensor4D {
  const y = tf.conv2d(x as tf.Tensor4D, ctx.param(kernel) as tf.Tensor4D, 1, 'same');
  return bias === undefined ? y : (tf.add(y, ctx.param(bias)) as tf.Tensor4D);
}

/** 2×2 max pooling with stride 2 ('valid': an odd last row or column is dropped). */
export function maxPool2(x: tf.Tensor): tf.Tensor4D {
  return tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
}

/** [N, ...] → [N, prod(...)]. */
export function flatten(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}
