import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runningStatsNames } from './bn-stats.js';
import type { GraphNode } from './graph.js';
import { layersModelFiles, toLayersModel, type NamedTensor } from './keras/index.js';
import { createModel, type Model } from './model.js';
import { argmax, softmax } from './softmax.js';
import { seededValues, TINY } from './test-fixtures.js';

// The graph is what other frameworks rebuild the model from (the run's metadata, the Keras export),
// so it must compute what the forward pass computes: run it op by op as OP_SEMANTICS words it.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every tensor of the model by name, parameters and running statistics (variances positive), seeded. */
function namedTensors(model: Model, seed: number): { params: Float32Array; bnState: Float32Array; tensors: Map<string, NamedTensor> } {
  const params = seededValues(model.paramCount, seed);
  const bnState = seededValues(model.bnStateSize, seed + 1);
  const tensors = new Map<string, NamedTensor>(model.paramSpecs.map((s) => [s.name, { shape: s.shape, data: params.subarray(s.offset, s.offset + s.size) }]));
  for (const bn of model.bnSpecs) {
    const variance = bnState.subarray(bn.offset + bn.channels, bn.offset + 2 * bn.channels);
    variance.forEach((v, i) => (variance[i] = 0.5 + Math.abs(v)));
    const names = runningStatsNames(bn.name);
    tensors.set(names.mean, { shape: [bn.channels], data: bnState.subarray(bn.offset, bn.offset + bn.channels) });
    tensors.set(names.variance, { shape: [bn.channels], data: variance });
  }
  return { params, bnState, tensors };
}

/** The graph run with plain ops, as another framework's user would write it from the metadata. */
function runGraph(graph: readonly GraphNode[], tensors: ReadonlyMap<string, NamedTensor>, x: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const t = (name: string): tf.Tensor => tf.tensor(tensors.get(name)!.data, [...tensors.get(name)!.shape]);
    const act = (y: tf.Tensor, activation: string): tf.Tensor => (activation === 'relu' ? tf.relu(y) : y);
    const values = new Map<string, tf.Tensor>([['input', x]]);
    let previous = 'input';
    for (const node of graph) {
      const h = values.get((node.inputs ?? [previous])[0]!)!;
      let y: tf.Tensor;
      switch (node.op) {
        case 'flatten':
          y = tf.reshape(h, [h.shape[0], -1]);
          break;
        case 'dense':
          y = act(
            node.bias
              ? tf.add(tf.matMul(h as tf.Tensor2D, t(node.kernel) as tf.Tensor2D), t(node.bias))
              : tf.matMul(h as tf.Tensor2D, t(node.kernel) as tf.Tensor2D),
            node.activation,
          );
          break;
        case 'conv2d': {
          const c = tf.conv2d(h as tf.Tensor4D, t(node.kernel) as tf.Tensor4D, 1, 'same');
          y = act(node.bias ? tf.add(c, t(node.bias)) : c, node.activation);
          break;
        }
        case 'batchnorm':
          y = act(
            tf.add(tf.mul(tf.div(tf.sub(h, t(node.mean)), tf.sqrt(tf.add(t(node.variance), node.epsilon))), t(node.gamma)), t(node.beta)),
            node.activation,
          );
          break;
        case 'maxpool':
          y = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
          break;
        case 'add':
          y = act(tf.add(values.get(node.inputs[0])!, values.get(node.inputs[1])!), node.activation);
          break;
        case 'global_average_pool':
          y = tf.mean(h, [1, 2]);
          break;
        case 'add_scalar':
          y = act(tf.add(h, t(node.tensor)), node.activation);
          break;
        case 'mul_scalar':
          y = tf.mul(h, t(node.tensor));
          break;
      }
      values.set(node.name, y);
      previous = node.name;
    }
    return Float32Array.from(values.get(previous)!.dataSync());
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const COUNT = 6;

describe('graph', () => {
  for (const [label, config] of Object.entries(TINY)) {
    it(`${label}: the graph computes the forward pass's logits`, () => {
      const model = createModel(config);
      const { params, bnState, tensors } = namedTensors(model, 3);
      const x = seededValues(COUNT * model.config.inputShape.reduce((a, d) => a * d, 1), 9);
      const expected = model.logits(params, bnState, x, COUNT);
      const actual = runGraph(model.graph, tensors, tf.tensor(x, [COUNT, ...model.config.inputShape]));
      expect(actual).toHaveLength(COUNT * model.config.numClasses);
      expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-4);
      // Every tensor of the model is used by some node.
      const used = new Set(
        model.graph.flatMap((n) =>
          Object.entries(n)
            .filter(([k]) => k !== 'name' && k !== 'op' && k !== 'inputs')
            .map(([, v]) => v),
        ),
      );
      expect([...tensors.keys()].filter((name) => !used.has(name))).toEqual([]);
    });
  }

  it('names the layers of the cnn in order, with their tensors and activations', () => {
    const model = createModel({ name: 'cnn', channels: [4] });
    expect(model.graph).toEqual([
      { op: 'conv2d', name: 'conv0', kernel: 'conv0/kernel', activation: 'linear' },
      {
        op: 'batchnorm',
        name: 'bn0',
        gamma: 'bn0/gamma',
        beta: 'bn0/beta',
        mean: 'bn0/running_mean',
        variance: 'bn0/running_var',
        epsilon: 1e-5,
        activation: 'relu',
      },
      { op: 'maxpool', name: 'pool0' },
      { op: 'flatten', name: 'flatten' },
      { op: 'dense', name: 'dense0', kernel: 'dense0/kernel', bias: 'dense0/bias', activation: 'linear' },
    ]);
  });
});

describe('Keras (TensorFlow.js Layers) export', () => {
  for (const [label, config] of Object.entries(TINY)) {
    if (config.norm === 'fixup') {
      it(`${label}: refused, naming Fixup's scalars and the fix`, () => {
        const model = createModel(config);
        expect(() => toLayersModel(model.graph, model.config.inputShape, namedTensors(model, 3).tensors)).toThrow(
          expect.objectContaining({
            code: 'E_MODEL_EXPORT',
            message: expect.stringMatching(/Fixup resnet has scalar biases .*stem\/fixup_bias.*--norm batchnorm/),
          }),
        );
      });
      continue;
    }
    it(`${label}: the Layers model gives the model's probabilities, also after a round trip through its files`, async () => {
      const model = createModel(config);
      const { params, bnState, tensors } = namedTensors(model, 5);
      const x = seededValues(COUNT * model.config.inputShape.reduce((a, d) => a * d, 1), 11);
      const logits = model.logits(params, bnState, x, COUNT);
      const keras = toLayersModel(model.graph, model.config.inputShape, tensors);
      const input = tf.tensor(x, [COUNT, ...model.config.inputShape]);
      const probabilities = (keras.predict(input) as tf.Tensor).dataSync();
      const k = model.config.numClasses;
      for (let i = 0; i < COUNT; i++) {
        const row = logits.subarray(i * k, (i + 1) * k);
        expect(maxAbsDiff(probabilities.subarray(i * k, (i + 1) * k), softmax(row))).toBeLessThan(1e-5);
        expect(argmax(probabilities.subarray(i * k, (i + 1) * k))).toBe(argmax(row));
      }
      const files = await layersModelFiles(keras, { metadata: { dptrain: { model: config.name } } });
      const json = JSON.parse(files.modelJson);
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      expect(json.userDefinedMetadata).toEqual({ dptrain: { model: config.name } });
      const loaded = await tfl.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: files.weights.slice().buffer }),
      );
      expect((loaded.predict(input) as tf.Tensor).dataSync()).toEqual(probabilities);
      keras.dispose();
      loaded.dispose();
      input.dispose();
    });
  }
});
