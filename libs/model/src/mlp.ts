/**
 * Multi-layer perceptron: flatten → (dense → ReLU) per hidden width → dense to the classes.
 * Default 784-256-128-10 (235,146 parameters). Tensors `dense{i}/kernel` [in, out] and
 * `dense{i}/bias` [out]; hidden kernels He-uniform, the output kernel Glorot-uniform (no ReLU
 * follows it), biases zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense, flatten } from './architecture.js';
import type { Architecture } from './architecture.js';
import { GraphBuilder } from './graph.js';
import { constant, glorotUniform, heUniform } from './init.js';
import { LayoutBuilder } from './layout.js';

export function buildMlp(inputShape: readonly number[], hidden: readonly number[], numClasses: number): Architecture {
  const b = new LayoutBuilder();
  const g = new GraphBuilder();
  g.add({ op: 'flatten', name: 'flatten' });
  const widths = [inputShape.reduce((a, d) => a * d, 1), ...hidden, numClasses];
  const layers: { kernel: number; bias: number }[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const [fanIn, fanOut] = [widths[i], widths[i + 1]];
    const last = i + 2 === widths.length;
    const kernel = b.param(`dense${i}/kernel`, [fanIn, fanOut], last ? glorotUniform(fanIn, fanOut) : heUniform(fanIn));
    const bias = b.param(`dense${i}/bias`, [fanOut], constant(0));
    layers.push({ kernel, bias });
    g.add({ op: 'dense', name: `dense${i}`, kernel: b.nameOf(kernel), bias: b.nameOf(bias), activation: last ? 'linear' : 'relu' });
  }
  return {
    layout: b.build(),
    graph: g.build(),
    denseStack: layers,
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
