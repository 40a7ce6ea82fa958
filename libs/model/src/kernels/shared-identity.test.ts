import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

describe('Identity and Cast on wasm', () => {
  it('share the data of a same-dtype input and free it with the last tensor that holds it', () => {
    const backend = tf.backend() as BackendWasm;
    const before = backend.numDataIds();
    const x = tf.tensor1d([1.5, -2, 3]);
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    // One buffer for the three tensors; values as given.
    expect(backend.numDataIds()).toBe(before + 1);
    expect(Array.from(copy.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 3]);
    x.dispose();
    copy.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 3]);
    same.dispose();
    expect(backend.numDataIds()).toBe(before);
  });

  it('still convert between dtypes', () => {
    // float32 → int32 truncates toward zero as TensorFlow.js does: 1.5 → 1, −2.7 → −2; bool → float32 gives 0/1.
    const ints = tf.cast(tf.tensor1d([1.5, -2.7, 3]), 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
    const floats = tf.cast(tf.tensor1d([true, false], 'bool'), 'float32');
    expect(Array.from(floats.dataSync())).toEqual([1, 0]);
  });
});
