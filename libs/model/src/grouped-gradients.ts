/**
 * Several micro-batches' gradients in one pass for a dense stack (flatten → (dense → ReLU)* →
 * dense → softmax cross-entropy), each bit-identical to its own `computeGradients` call.
 *
 * Why it keeps the bits: every row of a matrix product, an element-wise op and a row-wise
 * softmax is computed alone, so the forward pass and the backward pass's dx run over the rows of
 * all micro-batches at once. The only sums across rows — each micro-batch's weight gradient
 * xᵀ·dy, its bias gradient and its loss — are taken on that micro-batch's rows alone, with the
 * very ops TensorFlow.js's gradients use (BatchMatMul_grad, Add_grad, Relu_grad; loss.ts's
 * gradient). The per-call costs (op dispatch, parameter upload, small products) are paid once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { logSoftmax } from './loss.js';
import type { Batch } from './model.js';

/** One dense layer of the stack: the indices of its kernel [in, out] and bias [out] among the declared tensors. */
export interface DenseLayer {
  readonly kernel: number;
  readonly bias: number;
}

/**
 * Loss and gradient of each of `groups` micro-batches of `rows` samples each, `x` [groups × rows,
 * in] and `oneHot` [groups × rows, classes] in micro-batch order; `params` the declared tensors.
 * Returns per micro-batch its loss and each declared tensor's gradient (kept: the caller disposes).
 */
export function groupedDenseGradients(
  layers: readonly DenseLayer[],
  params: readonly tf.Tensor[],
  x: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  groups: number,
  rows: number,
): { loss: tf.Scalar; grads: tf.Tensor[] }[] {
  return tf.tidy(() => {
    // Forward over every row; each layer's input and pre-activation are kept for the backward pass.
    const inputs: tf.Tensor2D[] = [];
    const pre: tf.Tensor2D[] = [];
    let h = x;
    layers.forEach((layer, i) => {
      inputs.push(h);
      const z = tf.add(tf.matMul(h, params[layer.kernel] as tf.Tensor2D), params[layer.bias]!) as tf.Tensor2D;
      pre.push(z);
      h = i + 1 < layers.length ? tf.relu(z) : z;
    });
    const logProb = logSoftmax(h);
    const slice = (t: tf.Tensor2D, g: number): tf.Tensor2D => tf.slice(t, [g * rows, 0], [rows, t.shape[1]]);
    // loss.ts: −Σ(onehot · log S)/n per micro-batch, and ∂/∂z = (S − onehot)/n row by row.
    const losses = Array.from({ length: groups }, (_, g) => tf.div(tf.neg(tf.sum(tf.mul(slice(oneHot, g), slice(logProb, g)))), rows) as tf.Scalar);
    let dy = tf.div(tf.sub(tf.exp(logProb), oneHot), rows) as tf.Tensor2D;
    const grads: tf.Tensor[][] = Array.from({ length: groups }, () => new Array<tf.Tensor>(params.length));
    for (let i = layers.length - 1; i >= 0; i--) {
      const { kernel, bias } = layers[i]!;
      if (i + 1 < layers.length) dy = tf.mul(dy, tf.cast(tf.step(pre[i]!), 'float32'));
      for (let g = 0; g < groups; g++) {
        const dyg = slice(dy, g);
        grads[g]![bias] = tf.reshape(tf.sum(dyg, [0]), params[bias]!.shape);
        grads[g]![kernel] = tf.matMul(slice(inputs[i]!, g), dyg, true, false);
      }
      if (i > 0) dy = tf.matMul(dy, params[kernel] as tf.Tensor2D, false, true);
    }
    return losses.map((loss, g) => ({ loss, grads: grads[g]! }));
  });
}

/**
 * Each of `batches` (one size) through the dense stack in one pass: its gradient into `outs[i]`
 * at the declared tensors' `offsets`; returns the losses.
 */
export function denseGradientsInto(
  layers: readonly DenseLayer[],
  params: () => tf.Tensor[],
  batches: readonly Batch[],
  outs: readonly Float32Array[],
  shape: { readonly offsets: readonly number[]; readonly numClasses: number; readonly sampleSize: number },
): number[] {
  const rows = batches[0]!.count;
  const x = new Float32Array(batches.length * rows * shape.sampleSize);
  const y = new Int32Array(batches.length * rows);
  batches.forEach((b, g) => {
    x.set(b.x, g * rows * shape.sampleSize);
    y.set(b.y, g * rows);
  });
  const losses: number[] = [];
  tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), shape.numClasses), 'float32') as tf.Tensor2D;
    const inputs = tf.tensor2d(x, [batches.length * rows, shape.sampleSize]);
    groupedDenseGradients(layers, params(), inputs, oneHot, batches.length, rows).forEach(({ loss, grads }, g) => {
      grads.forEach((t, i) => outs[g]!.set(t.dataSync() as Float32Array, shape.offsets[i]));
      losses.push(loss.dataSync()[0]!);
    });
  });
  return losses;
}
