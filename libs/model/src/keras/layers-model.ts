/**
 * A model's graph (graph.ts) as a TensorFlow.js Layers model, the Keras layers API: each node
 * becomes the Keras layer that computes the same function, with the run's tensors as its weights,
 * and a softmax layer named `probabilities` ends the network (the layer before it gives the
 * logits). Layouts agree without conversion: NHWC inputs (channels_last), dense kernels [in, out],
 * conv kernels [kh, kw, in, out], Flatten over (H, W, C), BatchNormalization's weights
 * [gamma, beta, moving_mean, moving_variance] with our epsilon (Keras' default is 1e-3).
 *
 * Fixup's scalar biases and multipliers have no Keras layer, so a Fixup resnet is refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Activation, GraphNode } from '../graph.js';
import { ModelError } from '../model-error.js';

/** A float32 tensor by its name in the parameter file. */
export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Refuses a graph with an op no Keras layer computes (Fixup's scalars), naming them and the fix.
 * @throws {ModelError} `E_MODEL_EXPORT`.
 */
export function checkKerasExportable(graph: readonly GraphNode[]): void {
  const scalars = graph.filter((n) => n.op === 'add_scalar' || n.op === 'mul_scalar').map((n) => n.name);
  if (scalars.length === 0) return;
  const shown = scalars.slice(0, 3).join(', ') + (scalars.length > 3 ? `, … (${scalars.length})` : '');
  throw new ModelError(
    'E_MODEL_EXPORT',
    `a Fixup resnet has scalar biases and multipliers (${shown}) that no Keras layer holds; export supports mlp, cnn and resnet --norm batchnorm or none: train the resnet with --norm batchnorm to export it`,
  );
}

/** Keras layer names take no `/`: `block0/conv0` becomes `block0_conv0`. */
const layerName = (node: GraphNode): string => node.name.replaceAll('/', '_');

/**
 * Builds the Layers model `name` of `graph` for inputs of `inputShape` (one sample, NHWC or [features]).
 * Register a backend (initBackend) first; dispose the model when done.
 * @throws {ModelError} `E_MODEL_EXPORT` for a graph with scalar ops, or a tensor missing from `tensors`.
 */
export function toLayersModel(
  graph: readonly GraphNode[],
  inputShape: readonly number[],
  tensors: ReadonlyMap<string, NamedTensor>,
  name = 'dptrain',
): tfl.LayersModel {
  checkKerasExportable(graph);
  const created: tf.Tensor[] = [];
  const weight = (name: string): tf.Tensor => {
    const t = tensors.get(name);
    if (!t) throw new ModelError('E_MODEL_EXPORT', `tensor "${name}" of the model is missing from the parameters; export the parameters of this very model`);
    const tensor = tf.tensor(t.data, [...t.shape], 'float32');
    created.push(tensor);
    return tensor;
  };
  try {
    const input = tfl.input({ shape: [...inputShape], name: 'input' });
    const outputs = new Map<string, tfl.SymbolicTensor>([['input', input]]);
    let previous = 'input';
    const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor => layer.apply(x) as tfl.SymbolicTensor;
    /** An activation layer after layers that take none (BatchNormalization, Add). */
    const activate = (node: GraphNode, activation: Activation, x: tfl.SymbolicTensor): tfl.SymbolicTensor =>
      activation === 'linear' ? x : apply(tfl.layers.activation({ activation, name: `${layerName(node)}_${activation}` }), x);
    for (const node of graph) {
      const [x] = (node.inputs ?? [previous]).map((name) => outputs.get(name)!);
      const name = layerName(node);
      let y: tfl.SymbolicTensor;
      switch (node.op) {
        case 'flatten':
          // Keras' Flatten refuses [N, D] inputs, which it would leave as they are.
          y = x.shape.length > 2 ? apply(tfl.layers.flatten({ name }), x) : x;
          break;
        case 'dense': {
          const kernel = weight(node.kernel);
          const weights = node.bias === undefined ? [kernel] : [kernel, weight(node.bias)];
          y = apply(tfl.layers.dense({ name, units: kernel.shape[1]!, useBias: node.bias !== undefined, activation: node.activation, weights }), x);
          break;
        }
        case 'conv2d': {
          const kernel = weight(node.kernel);
          const weights = node.bias === undefined ? [kernel] : [kernel, weight(node.bias)];
          const [kh, kw, , filters] = kernel.shape;
          const layer = tfl.layers.conv2d({
            name,
            filters: filters!,
            kernelSize: [kh!, kw!],
            strides: 1,
            padding: 'same',
            dataFormat: 'channelsLast',
            useBias: node.bias !== undefined,
            activation: node.activation,
            weights,
          });
          y = apply(layer, x);
          break;
        }
        case 'batchnorm': {
          const weights = [weight(node.gamma), weight(node.beta), weight(node.mean), weight(node.variance)];
          y = activate(node, node.activation, apply(tfl.layers.batchNormalization({ name, axis: -1, epsilon: node.epsilon, weights }), x));
          break;
        }
        case 'maxpool':
          y = apply(tfl.layers.maxPooling2d({ name, poolSize: 2, strides: 2, padding: 'valid', dataFormat: 'channelsLast' }), x);
          break;
        case 'global_average_pool':
          y = apply(tfl.layers.globalAveragePooling2d({ name, dataFormat: 'channelsLast' }), x);
          break;
        case 'add':
          y = activate(
            node,
            node.activation,
            apply(
              tfl.layers.add({ name }),
              node.inputs.map((n) => outputs.get(n)!),
            ),
          );
          break;
        case 'add_scalar':
        case 'mul_scalar':
          // checkKerasExportable refused these above.
          throw new ModelError('E_MODEL_EXPORT', `op ${node.op} has no Keras layer`);
      }
      outputs.set(node.name, y);
      previous = node.name;
    }
    const probabilities = apply(tfl.layers.activation({ activation: 'softmax', name: 'probabilities' }), outputs.get(previous)!);
    return tfl.model({ inputs: input, outputs: probabilities, name });
  } finally {
    // The layers copied their weights into variables of their own.
    tf.dispose(created);
  }
}
