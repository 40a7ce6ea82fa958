import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormTrain } from '../batch-norm.js';
import { softmaxCrossEntropy } from '../loss.js';
import { registerTrainingGradients } from '../tf-gradients.js';
import { registerWasmTrainingKernels } from './register.js';
import { seededValues } from './testing/oracle.js';

beforeAll(() => {
  registerTrainingGradients();
  registerWasmTrainingKernels();
});

const BATCH = 4;
const PARAM_SHAPES: Record<string, number[]> = {
  conv1: [3, 3, 2, 4],
  gamma: [4],
  beta: [4],
  conv2: [3, 3, 4, 6],
  dense: [6, 3],
  bias: [3],
};

/**
 * A small net that reaches every kernel on the training path: conv 3×3/1 'same' (2→4) → batch
 * norm → ReLU → maxpool 2×2 → conv 3×3/2 'same' (4→6, needs dx of its input) → ReLU → global
 * average pool → dense → softmax cross-entropy. Returns the gradients in PARAM_SHAPES order.
 */
function gradients(values: Record<string, Float32Array>): Float32Array[] {
  const moments: tf.Tensor[] = [];
  const result = tf.tidy(() => {
    const x = tf.tensor4d(values['x']!, [BATCH, 10, 10, 2]);
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3) as tf.Tensor2D;
    const params = Object.entries(PARAM_SHAPES).map(([name, shape]) => tf.tensor(values[name]!, shape));
    const loss = (conv1: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, conv2: tf.Tensor, dense: tf.Tensor, bias: tf.Tensor) => {
      const h1 = tf.conv2d(x, conv1 as tf.Tensor4D, 1, 'same');
      const bn = batchNormTrain(h1, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-5);
      moments.push(bn.mean, bn.variance);
      const p1 = tf.maxPool(tf.relu(bn.y) as tf.Tensor4D, 2, 2, 'valid');
      const h2 = tf.relu(tf.conv2d(p1, conv2 as tf.Tensor4D, 2, 'same'));
      const logits = tf.add(tf.matMul(tf.mean(h2, [1, 2]) as tf.Tensor2D, dense as tf.Tensor2D), bias) as tf.Tensor2D;
      return softmaxCrossEntropy(logits, labels);
    };
    return tf.grads(loss as (...args: tf.Tensor[]) => tf.Scalar)(params);
  });
  const read = result.map((g) => g.dataSync() as Float32Array);
  // Batch norm hands its batch statistics to the caller, outside the tidy scope.
  tf.dispose([...result, ...moments]);
  return read;
}

function seededParams(): Record<string, Float32Array> {
  const values: Record<string, Float32Array> = { x: seededValues(BATCH * 10 * 10 * 2, 1) };
  Object.entries(PARAM_SHAPES).forEach(([name, shape], i) => {
    values[name] = seededValues(
      shape.reduce((a, b) => a * b, 1),
      10 + i,
    );
  });
  values['gamma'] = values['gamma']!.map((v) => 1 + v / 4);
  return values;
}

describe('a conv-net training step on wasm', () => {
  it('has the gradients the cpu backend computes', async () => {
    const values = seededParams();
    await tf.setBackend('cpu');
    const cpu = gradients(values);
    await tf.setBackend('wasm');
    const wasm = gradients(values);
    // Float32 rounding (u ≈ 6·10⁻⁸) through a dozen ops with fan-in ≤ 200 stays below 10⁻⁵ of
    // each tensor's largest gradient; a wrong kernel is off by order 1. 10⁻⁴ leaves margin.
    Object.keys(PARAM_SHAPES).forEach((name, i) => {
      const scale = Math.max(...cpu[i]!.map(Math.abs));
      const worst = Math.max(...wasm[i]!.map((v, j) => Math.abs(v - cpu[i]![j]!)));
      expect(scale, name).toBeGreaterThan(0);
      expect(worst / scale, name).toBeLessThan(1e-4);
    });
  });

  it('gives the same bits twice', async () => {
    await tf.setBackend('wasm');
    const values = seededParams();
    const first = gradients(values);
    const second = gradients(values);
    first.forEach((g, i) => expect(Buffer.from(second[i]!.buffer).equals(Buffer.from(g.buffer))).toBe(true));
  });

  it('leaks no tensors, no backend data and no wasm heap', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const values = seededParams();
    // The first steps may grow the heap to its working size; after that nothing may grow.
    gradients(values);
    gradients(values);
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    // The emscripten module's typings are not installed; HEAPU8 is its heap.
    const heap = () => (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.byteLength;
    const heapBytes = heap();
    for (let i = 0; i < 5; i++) gradients(values);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    expect(heap()).toBe(heapBytes);
  });
});
