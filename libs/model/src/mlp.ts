/**
 * Multi-layer perceptron: flatten → (dense → ReLU) per hidden width → dense to the classes.
 * Default 784-256-128-10 (235,146 parameters). Tensors `dense{i}/kernel` [in, out] and
 * `dense{i}/bias` [out]; hidden kernels He-uniform, the output kernel Glorot-uniform (no ReLU
 * follows it), biases zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense, flatten } from './architecture.js';
import type { Architecture } from './architecture.js';
import { constant, glorotUniform, heUniform } from './init.js';
import { LayoutBuilder } from './layout.js';

export function buildMlp(inputShape: readonly number[], hidden: readonly number[], numClasses: number): Architecture {
  const b = new LayoutBuilder();
  const widths = [inputShape.reduce((a, d) => a * d, 1), ...hidden, numClasses];
  const layers: { kernel: number; bias: number }[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const [fanIn, fanOut] = [widths[i], widths[i + 1]];
    const last = i + 2 === widths.length;
    layers.push({
      kernel: b.param(`dense${i}/kernel`, [fanIn, fanOut], last ? glorotUniform(fanIn, fanOut) : heUniform(fanIn)),
      bias: b.param(`dense${i}/bias`, [fanOut], constant(0)),
    });
  }
  return {
    layout: b.build(),
    forward(ctx, x) {
      let h: tf.Tensor2D = flatten(x);
      layers.forEach((layer, i) => {
        h = dense(ctx, h, layer.kernel, layer.bias);
        if (i + 1 < layers.length) h = tf.relu(h);
      });
      return h;
    },
  };
}
