/**
 * Small convolutional network: per entry of `channels`, conv3×3 ('same', no bias: the batch norm's
 * β takes its place) → batch norm → ReLU → maxpool 2×2; then flatten → dense to the classes.
 * Default channels [16, 32] on 28×28×1: 20,570 parameters. Tensors `conv{i}/kernel` [3, 3, in, out],
 * `bn{i}/gamma`, `bn{i}/beta`, `dense0/kernel`, `dense0/bias`; conv kernels He-uniform, the dense
 * kernel Glorot-uniform, γ = 1, β = 0, bias 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv, dense, flatten, maxPool2 } from './architecture.js';
import type { Architecture } from './architecture.js';
import { batchNormNode, GraphBuilder } from './graph.js';
import { constant, glorotUniform, heUniform } from './init.js';
import { LayoutBuilder } from './layout.js';
import type { BnLayer } from './layout.js';

export function buildCnn(inputShape: readonly number[], channels: readonly number[], numClasses: number, bnEpsilon: number): Architecture {
  const b = new LayoutBuilder();
  const g = new GraphBuilder();
  let [height, width, inC] = inputShape;
  const blocks: { kernel: number; bn: BnLayer }[] = [];
  channels.forEach((outC, i) => {
    const block = { kernel: b.param(`conv${i}/kernel`, [3, 3, inC, outC], heUniform(9 * inC)), bn: b.batchNorm(`bn${i}`, outC) };
    blocks.push(block);
    g.add({ op: 'conv2d', name: `conv${i}`, kernel: b.nameOf(block.kernel), activation: 'linear' });
    g.add(batchNormNode(block.bn, (index) => b.nameOf(index), bnEpsilon, 'relu'));
    g.add({ op: 'maxpool', name: `pool${i}` });
    [height, width, inC] = [Math.floor(height / 2), Math.floor(width / 2), outC];
  });
  const features = height * width * inC;
  const kernel = b.param('dense0/kernel', [features, numClasses], glorotUniform(features, numClasses));
  const bias = b.param('dense0/bias', [numClasses], constant(0));
  g.add({ op: 'flatten', name: 'flatten' });
  g.add({ op: 'dense', name: 'dense0', kernel: b.nameOf(kernel), bias: b.nameOf(bias), activation: 'linear' });
  return {
    layout: b.build(),
    graph: g.build(),
    forward(ctx, x) {
      let h: tf.Tensor = x;
      for (const block of blocks) h = maxPool2(tf.relu(ctx.batchNorm(block.bn, conv(ctx, h, block.kernel))));
      return dense(ctx, flatten(h), kernel, bias);
    },
  };
}
