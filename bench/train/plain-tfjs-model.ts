/**
 * The bench's models written the way a TensorFlow.js user writes them: `tf.variable` weights, a
 * forward function of plain ops, batch norm from `tf.moments` and `tf.batchNorm`, everything
 * differentiated by tfjs. The architectures mirror `@dptrain/model` (mlp.ts, cnn.ts) layer for
 * layer, with the same initialisation schemes (He-uniform, Glorot-uniform for the last dense
 * kernel, zero biases, γ = 1, β = 0) but tfjs's own random numbers; the parameter count is
 * computed from the variables, so the table shows independently that the shapes agree.
 *
 *   mlp: 784 → dense 256 → ReLU → dense 128 → ReLU → dense 10
 *   cnn: per channels c of [16, 32]: conv3×3 'same' without bias → batch norm → ReLU → maxpool 2×2;
 *        flatten (7·7·32 = 1,568) → dense 10
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BenchModel } from './measurement.js';

/** ε of every batch-norm layer, as in `@dptrain/model` and PyTorch. */
const BN_EPSILON = 1e-5;
/** Weight of the new batch in the running statistics (PyTorch's momentum 0.1). */
const BN_MOMENTUM = 0.1;

export interface PlainModel {
  readonly trainable: tf.Variable[];
  readonly paramCount: number;
  /** Training-mode logits [N, 10] for a batch of N 28×28 images given as [N, 784]. */
  forward(x: tf.Tensor2D): tf.Tensor2D;
  /**
   * Folds the batch moments of the last `forward` into the running statistics and frees them;
   * call after each optimizer step (a no-op for the MLP).
   */
  updateRunningStats(): void;
}

function uniform(shape: number[], limit: number, seed: number): tf.Variable {
  return tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed));
}

const heUniform = (shape: number[], fanIn: number, seed: number): tf.Variable => uniform(shape, Math.sqrt(6 / fanIn), seed);
const glorotUniform = (shape: number[], fanIn: number, fanOut: number, seed: number): tf.Variable =>
  uniform(shape, Math.sqrt(6 / (fanIn + fanOut)), seed);

function plainMlp(seed: number): PlainModel {
  const widths = [784, 256, 128, 10];
  const layers = widths.slice(1).map((fanOut, i) => {
    const fanIn = widths[i];
    const last = i === widths.length - 2;
    return {
      kernel: last ? glorotUniform([fanIn, fanOut], fanIn, fanOut, seed + i) : heUniform([fanIn, fanOut], fanIn, seed + i),
      bias: tf.variable(tf.zeros([fanOut])),
    };
  });
  const trainable = layers.flatMap((l) => [l.kernel, l.bias]);
  return {
    trainable,
    paramCount: trainable.reduce((n, v) => n + v.size, 0),
    forward(x) {
      let h = x;
      layers.forEach((l, i) => {
        h = tf.add(tf.matMul(h, l.kernel), l.bias);
        if (i < layers.length - 1) h = tf.relu(h);
      });
      return h;
    },
    updateRunningStats() {
      // No batch norm: nothing to fold.
    },
  };
}

function plainCnn(seed: number): PlainModel {
  const channels = [16, 32];
  const blocks = channels.map((outC, i) => {
    const inC = i === 0 ? 1 : channels[i - 1];
    return {
      kernel: heUniform([3, 3, inC, outC], 9 * inC, seed + i),
      gamma: tf.variable(tf.ones([outC])),
      beta: tf.variable(tf.zeros([outC])),
      runningMean: tf.variable(tf.zeros([outC]), false),
      runningVariance: tf.variable(tf.ones([outC]), false),
    };
  });
  const features = 7 * 7 * channels[channels.length - 1];
  const kernel = glorotUniform([features, 10], features, 10, seed + channels.length);
  const bias = tf.variable(tf.zeros([10]));
  const trainable = [...blocks.flatMap((b) => [b.kernel, b.gamma, b.beta]), kernel, bias];
  let moments: { mean: tf.Tensor; variance: tf.Tensor }[] = [];
  return {
    trainable,
    paramCount: trainable.reduce((n, v) => n + v.size, 0),
    forward(x) {
      let h: tf.Tensor4D = tf.reshape(x, [x.shape[0], 28, 28, 1]);
      for (const b of blocks) {
        const conv = tf.conv2d(h, b.kernel as tf.Tensor4D, 1, 'same');
        const { mean, variance } = tf.moments(conv, [0, 1, 2]);
        // The moments leave the gradient scope for the running statistics.
        moments.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
        const normed = tf.batchNorm(conv, mean, variance, b.beta, b.gamma, BN_EPSILON);
        h = tf.maxPool(tf.relu(normed) as tf.Tensor4D, 2, 2, 'valid') as tf.Tensor4D;
      }
      return tf.add(tf.matMul(tf.reshape(h, [h.shape[0], -1]), kernel), bias);
    },
    updateRunningStats() {
      tf.tidy(() => {
        blocks.forEach((b, i) => {
          b.runningMean.assign(tf.add(tf.mul(b.runningMean, 1 - BN_MOMENTUM), tf.mul(moments[i].mean, BN_MOMENTUM)));
          b.runningVariance.assign(tf.add(tf.mul(b.runningVariance, 1 - BN_MOMENTUM), tf.mul(moments[i].variance, BN_MOMENTUM)));
        });
      });
      tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
      moments = [];
    },
  };
}

export function createPlainModel(name: BenchModel, seed: number): PlainModel {
  return name === 'mlp' ? plainMlp(seed) : plainCnn(seed);
}
