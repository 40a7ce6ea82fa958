/**
 * Independent oracles: each architecture written again by hand with plain TensorFlow.js ops,
 * `tf.moments` for batch norm and `tf.losses.softmaxCrossEntropy` for the loss, differentiated by
 * TensorFlow.js's own autodiff. The model's loss, gradients and batch-norm moments must agree.
 */
import * as tf from '@tensorflow/tfjs-core';
// The oracles differentiate ops (moments, losses) whose gradients only this import registers.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { unflattenParams } from './flat-params.js';
import { createModel } from './model.js';
import type { Batch, Model } from './model.js';
import type { ModelConfig } from './model-config.js';
import { seededBatch, seededValues } from './test-fixtures.js';

const EPS = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Forward = (p: Map<string, tf.Tensor>, x: tf.Tensor, moments: tf.Tensor[]) => tf.Tensor2D;

function bn(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, moments: tf.Tensor[]): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.rank === 4 ? [0, 1, 2] : [0]);
  moments.push(tf.keep(mean), tf.keep(variance));
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta);
}

function conv3x3(x: tf.Tensor, k: tf.Tensor): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same');
}

function compare(model: Model, forward: Forward, params: Float32Array, batch: Batch): void {
  const ours = model.computeGradients(params, batch);
  const views = unflattenParams(params, model.paramSpecs);
  const names = model.paramSpecs.map((s) => s.name);
  const tensors = model.paramSpecs.map((s) => tf.tensor(views.get(s.name)!, s.shape as number[]));
  const x = tf.tensor(batch.x, [batch.count, ...model.config.inputShape]);
  const oneHot = tf.oneHot(tf.tensor1d(batch.y, 'int32'), model.config.numClasses);
  const moments: tf.Tensor[] = [];
  const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
    const byName = new Map(names.map((n, i) => [n, ps[i]]));
    moments.length = 0;
    return tf.losses.softmaxCrossEntropy(oneHot, forward(byName, x, moments)) as tf.Scalar;
  })(tensors);
  expect(ours.loss).toBeCloseTo(value.dataSync()[0], 5);
  grads.forEach((g, t) => {
    const [a, b] = [ours.grads.subarray(model.paramSpecs[t].offset, model.paramSpecs[t].offset + g.size), g.dataSync()];
    const scale = Math.max(1e-3, ...b.map(Math.abs));
    // Same float32 arithmetic in a different order: agree to ~1e−5 of the tensor's largest entry.
    a.forEach((v, i) => expect(Math.abs(v - b[i]) / scale, `${names[t]}[${i}]`).toBeLessThan(1e-4));
  });
  expect(ours.bnStats.length * 2).toBe(moments.length);
  ours.bnStats.forEach((s, l) => {
    const [mean, variance] = [moments[2 * l].dataSync(), moments[2 * l + 1].dataSync()];
    s.mean.forEach((v, c) => expect(v).toBeCloseTo(mean[c], 5));
    s.variance.forEach((v, c) => expect(v).toBeCloseTo(variance[c], 5));
  });
}

function check(config: ModelConfig, forward: Forward): void {
  const model = createModel(config);
  // Perturbed initial point: Fixup's zero layers must carry signal for the test to mean anything.
  const noise = seededValues(model.paramCount, 17);
  const params = model.init(11).map((w, i) => w + 0.2 * noise[i]);
  compare(model, forward, params, seededBatch(model, 6, 5));
}

describe('model against hand-written TensorFlow.js forward passes', () => {
  it('mlp: relu(x·W0 + b0) → relu(·W1 + b1) → ·W2 + b2', () => {
    check({ name: 'mlp', inputShape: [4, 2], numClasses: 3, hidden: [5, 4] }, (p, x) => {
      let h = tf.reshape(x, [x.shape[0], 8]);
      h = tf.relu(tf.add(tf.matMul(h, p.get('dense0/kernel')!), p.get('dense0/bias')!));
      h = tf.relu(tf.add(tf.matMul(h, p.get('dense1/kernel')!), p.get('dense1/bias')!));
      return tf.add(tf.matMul(h, p.get('dense2/kernel')!), p.get('dense2/bias')!) as tf.Tensor2D;
    });
  });

  it('cnn: (conv3×3 → BN → ReLU → maxpool 2) × 2 → dense', () => {
    check({ name: 'cnn', inputShape: [8, 8, 2], numClasses: 3, channels: [3, 4] }, (p, x, m) => {
      let h: tf.Tensor = x;
      for (const i of [0, 1]) {
        h = bn(conv3x3(h, p.get(`conv${i}/kernel`)!), p.get(`bn${i}/gamma`)!, p.get(`bn${i}/beta`)!, m);
        h = tf.maxPool(tf.relu(h) as tf.Tensor4D, 2, 2, 'valid');
      }
      h = tf.reshape(h, [h.shape[0], -1]);
      return tf.add(tf.matMul(h as tf.Tensor2D, p.get('dense0/kernel')!), p.get('dense0/bias')!) as tf.Tensor2D;
    });
  });

  it('resnet with Fixup: biases before layers and activations, a scalar multiplier per branch', () => {
    const blocks = 3;
    check({ name: 'resnet', inputShape: [6, 6, 2], numClasses: 3, blocks, width: 4, norm: 'fixup' }, (p, x) => {
      let h: tf.Tensor = tf.relu(tf.add(conv3x3(x, p.get('stem/kernel')!), p.get('stem/fixup_bias')!));
      h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
      for (let i = 0; i < blocks; i++) {
        const q = (n: string): tf.Tensor => p.get(`block${i}/${n}`)!;
        // Zhang et al.'s block: conv1(x + bias1a) → + bias1b → ReLU → conv2(· + bias2a) → ·scale + bias2b.
        let out = conv3x3(tf.add(h, q('fixup_bias1a')), q('conv0/kernel'));
        out = conv3x3(tf.add(tf.relu(tf.add(out, q('fixup_bias1b'))), q('fixup_bias2a')), q('conv1/kernel'));
        h = tf.relu(tf.add(h, tf.add(tf.mul(out, q('fixup_scale')), q('fixup_bias2b'))));
      }
      h = tf.add(tf.mean(h, [1, 2]), p.get('logits/fixup_bias')!);
      return tf.add(tf.matMul(h as tf.Tensor2D, p.get('logits/kernel')!), p.get('logits/bias')!) as tf.Tensor2D;
    });
  });

  it('resnet with batch norm: BN after every convolution, identity shortcuts', () => {
    const blocks = 2;
    check({ name: 'resnet', inputShape: [6, 6, 1], numClasses: 4, blocks, width: 3, norm: 'batchnorm' }, (p, x, m) => {
      const norm = (h: tf.Tensor, n: string): tf.Tensor => bn(h, p.get(`${n}/gamma`)!, p.get(`${n}/beta`)!, m);
      let h: tf.Tensor = tf.maxPool(tf.relu(norm(conv3x3(x, p.get('stem/kernel')!), 'stem/bn')) as tf.Tensor4D, 2, 2, 'valid');
      for (let i = 0; i < blocks; i++) {
        const branch = tf.relu(norm(conv3x3(h, p.get(`block${i}/conv0/kernel`)!), `block${i}/bn0`));
        h = tf.relu(tf.add(h, norm(conv3x3(branch, p.get(`block${i}/conv1/kernel`)!), `block${i}/bn1`)));
      }
      return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, p.get('logits/kernel')!), p.get('logits/bias')!) as tf.Tensor2D;
    });
  });

  it('resnet without normalization, dense blocks: x + W1·relu(W0·x + b0) + b1', () => {
    const blocks = 2;
    check({ name: 'resnet', inputShape: [5], numClasses: 3, blocks, width: 4, norm: 'none' }, (p, x) => {
      const lin = (h: tf.Tensor, n: string): tf.Tensor => tf.add(tf.matMul(h as tf.Tensor2D, p.get(`${n}/kernel`)!), p.get(`${n}/bias`)!);
      let h = tf.relu(lin(x, 'stem'));
      for (let i = 0; i < blocks; i++) h = tf.relu(tf.add(h, lin(tf.relu(lin(h, `block${i}/dense0`)), `block${i}/dense1`)));
      return lin(h, 'logits') as tf.Tensor2D;
    });
  });
});
