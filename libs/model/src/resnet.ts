/**
 * Residual network of constant width, for images ([H, W, C]: 3×3 convolutions) or vectors
 * ([D]: dense layers):
 *   stem: layer → (norm) → ReLU (→ maxpool 2 for images);
 *   `blocks` residual blocks: h ← ReLU(h + branch(h)), branch = two layers with ReLU between;
 *   head: global average pool (images) → dense to the classes.
 *
 * `norm` decides how the signal is kept in range:
 * - `batchnorm`: branch = BN(layer(ReLU(BN(layer(h))))); layers have no bias (β replaces it);
 *   He-uniform kernels, Glorot-uniform classifier.
 * - `none`: branch = layer(ReLU(layer(h) + b)) + b with He-uniform kernels and zero biases. Each
 *   block adds a branch of about the variance of its input, so the variance roughly doubles per
 *   block: deep stacks explode (lecture §3). Kept as the baseline Fixup is measured against.
 * - `fixup` (Zhang, Dauphin & Ma 2019), with L = `blocks` branches of m = 2 layers:
 *   branch = layer₁(ReLU(layer₀(h + a₁) + b₁) + a₂)·s + b₂ (the paper's bias1a, bias1b, bias2a,
 *   scale, bias2b: scalars, biases 0 and s = 1); layer₀ He-uniform scaled by L^(−1/(2m−2)) = L^(−1/2),
 *   layer₁ and the classifier start at zero; a scalar bias also follows the stem layer and precedes
 *   the classifier. With the last layer of every branch at zero each block starts as the identity,
 *   and the scaling bounds how fast the branches can grow once they move.
 *
 * Tensor names: `stem/kernel`, `stem/bias` | `stem/bn/{gamma,beta}` | `stem/fixup_bias`;
 * `block{i}/{conv|dense}{0,1}/{kernel,bias}`, `block{i}/bn{0,1}/{gamma,beta}`,
 * `block{i}/fixup_bias{1a,1b,2a,2b}`, `block{i}/fixup_scale`; `logits/fixup_bias`,
 * `logits/kernel`, `logits/bias`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv, dense, maxPool2 } from './architecture.js';
import type { Architecture, ForwardContext } from './architecture.js';
import { batchNormNode, GraphBuilder, type Activation } from './graph.js';
import { constant, glorotUniform, heUniform } from './init.js';
import type { Init } from './init.js';
import { LayoutBuilder } from './layout.js';
import type { BnLayer } from './layout.js';
import type { NormKind } from './model-config.js';

/** Layers per residual branch (Fixup's m). */
const BRANCH_LAYERS = 2;

/** Fixup's rescaling of the branch layers that do not start at zero: L^(−1/(2m−2)). */
export function fixupScale(branches: number, layersPerBranch = BRANCH_LAYERS): number {
  return Math.pow(branches, -1 / (2 * layersPerBranch - 2));
}

interface Layer {
  readonly kernel: number;
  readonly bias?: number;
  readonly bn?: BnLayer;
}

interface Block {
  readonly layers: readonly [Layer, Layer];
  readonly fixup?: { bias1a: number; bias1b: number; bias2a: number; scale: number; bias2b: number };
}

export function buildResnet(inputShape: readonly number[], numClasses: number, blocks: number, width: number, norm: NormKind, bnEpsilon: number): Architecture {
  const image = inputShape.length === 3;
  const kind = image ? 'conv' : 'dense';
  const inputChannels = image ? inputShape[2] : inputShape[0];
  const kernelShape = (inC: number, outC: number): number[] => (image ? [3, 3, inC, outC] : [inC, outC]);
  const fanIn = (inC: number): number => (image ? 9 * inC : inC);
  const b = new LayoutBuilder();
  const scalar = (name: string, value: number): number => b.param(name, [1], constant(value));

  const declareLayer = (prefix: string, bnName: string, inC: number, init: Init): Layer => {
    const kernel = b.param(`${prefix}/kernel`, kernelShape(inC, width), init);
    if (norm === 'none') return { kernel, bias: b.param(`${prefix}/bias`, [width], constant(0)) };
    if (norm === 'batchnorm') return { kernel, bn: b.batchNorm(bnName, width) };
    return { kernel };
  };

  const stem = declareLayer('stem', 'stem/bn', inputChannels, heUniform(fanIn(inputChannels)));
  const stemFixupBias = norm === 'fixup' ? scalar('stem/fixup_bias', 0) : undefined;

  const he = heUniform(fanIn(width));
  const fixupHe = heUniform(fanIn(width), fixupScale(blocks));
  const body: Block[] = [];
  for (let i = 0; i < blocks; i++) {
    const p = `block${i}`;
    if (norm !== 'fixup') {
      body.push({
        layers: [declareLayer(`${p}/${kind}0`, `${p}/bn0`, width, he), declareLayer(`${p}/${kind}1`, `${p}/bn1`, width, he)],
      });
      continue;
    }
    const bias1a = scalar(`${p}/fixup_bias1a`, 0);
    const layer0 = declareLayer(`${p}/${kind}0`, '', width, fixupHe);
    const bias1b = scalar(`${p}/fixup_bias1b`, 0);
    const bias2a = scalar(`${p}/fixup_bias2a`, 0);
    const layer1 = declareLayer(`${p}/${kind}1`, '', width, constant(0));
    const scale = scalar(`${p}/fixup_scale`, 1);
    const bias2b = scalar(`${p}/fixup_bias2b`, 0);
    body.push({ layers: [layer0, layer1], fixup: { bias1a, bias1b, bias2a, scale, bias2b } });
  }

  const headFixupBias = norm === 'fixup' ? scalar('logits/fixup_bias', 0) : undefined;
  const headKernel = b.param('logits/kernel', [width, numClasses], norm === 'fixup' ? constant(0) : glorotUniform(width, numClasses));
  const headBias = b.param('logits/bias', [numClasses], constant(0));

  // The forward pass below as data: each layer's linear map, then its bias or batch norm; the last
  // node of a layer carries the activation that follows it.
  const g = new GraphBuilder();
  const nameOf = (index: number): string => b.nameOf(index);
  const layerNodes = (name: string, layer: Layer, activation: Activation): void => {
    const op = image ? 'conv2d' : 'dense';
    if (layer.bn) {
      g.add({ op, name, kernel: nameOf(layer.kernel), activation: 'linear' });
      g.add(batchNormNode(layer.bn, nameOf, bnEpsilon, activation));
    } else {
      g.add({ op, name, kernel: nameOf(layer.kernel), ...(layer.bias === undefined ? {} : { bias: nameOf(layer.bias) }), activation });
    }
  };
  const scalarNode = (index: number, activation: Activation): void => {
    g.add({ op: 'add_scalar', name: nameOf(index), tensor: nameOf(index), activation });
  };
  layerNodes('stem', stem, stemFixupBias === undefined ? 'relu' : 'linear');
  if (stemFixupBias !== undefined) scalarNode(stemFixupBias, 'relu');
  if (image) g.add({ op: 'maxpool', name: 'stem/pool' });
  body.forEach(({ layers, fixup }, i) => {
    const h = g.last;
    if (fixup) {
      scalarNode(fixup.bias1a, 'linear');
      layerNodes(`block${i}/${kind}0`, layers[0], 'linear');
      scalarNode(fixup.bias1b, 'relu');
      scalarNode(fixup.bias2a, 'linear');
      layerNodes(`block${i}/${kind}1`, layers[1], 'linear');
      g.add({ op: 'mul_scalar', name: nameOf(fixup.scale), tensor: nameOf(fixup.scale) });
      scalarNode(fixup.bias2b, 'linear');
    } else {
      layerNodes(`block${i}/${kind}0`, layers[0], 'relu');
      layerNodes(`block${i}/${kind}1`, layers[1], 'linear');
    }
    g.add({ op: 'add', name: `block${i}/add`, inputs: [h, g.last], activation: 'relu' });
  });
  if (image) g.add({ op: 'global_average_pool', name: 'pool' });
  if (headFixupBias !== undefined) scalarNode(headFixupBias, 'linear');
  g.add({ op: 'dense', name: 'logits', kernel: nameOf(headKernel), bias: nameOf(headBias), activation: 'linear' });

  /** The layer's linear map, then its bias or batch norm (no activation). */
  const apply = (ctx: ForwardContext, h: tf.Tensor, layer: Layer): tf.Tensor => {
    const y = image ? conv(ctx, h, layer.kernel, layer.bias) : dense(ctx, h, layer.kernel, layer.bias);
    return layer.bn ? ctx.batchNorm(layer.bn, y) : y;
  };
  const plus = (ctx: ForwardContext, h: tf.Tensor, index: number | undefined): tf.Tensor => (index === undefined ? h : tf.add(h, ctx.param(index)));

  return {
    layout: b.build(),
    graph: g.build(),
    forward(ctx, x) {
      let h = tf.relu(plus(ctx, apply(ctx, x, stem), stemFixupBias));
      if (image) h = maxPool2(h);
      for (const { layers, fixup } of body) {
        let branch: tf.Tensor;
        if (fixup) {
          branch = tf.relu(plus(ctx, apply(ctx, plus(ctx, h, fixup.bias1a), layers[0]), fixup.bias1b));
          branch = apply(ctx, plus(ctx, branch, fixup.bias2a), layers[1]);
          branch = plus(ctx, tf.mul(branch, ctx.param(fixup.scale)), fixup.bias2b);
        } else {
          branch = apply(ctx, tf.relu(apply(ctx, h, layers[0])), layers[1]);
        }
        h = tf.relu(tf.add(h, branch));
      }
      if (image) h = tf.mean(h, [1, 2]);
      return dense(ctx, plus(ctx, h, headFixupBias), headKernel, headBias);
    },
  };
}
