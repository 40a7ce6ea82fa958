import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it, vi } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';

const OURS = Symbol.for('dptrain.wasmTrainingKernel');
const KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'Sum',
  'Mean',
  'BatchMatMul',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Identity',
  'Cast',
];

describe('registerWasmTrainingKernels', () => {
  it('works after the wasm backend is initialised, and a second call changes nothing and warns of nothing', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    await tf.setBackend('wasm');
    const warn = vi.spyOn(console, 'warn');
    registerWasmTrainingKernels();
    const first = KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    registerWasmTrainingKernels();
    const second = KERNELS.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    expect(second).toEqual(first);
    first.forEach((f, i) => expect(f !== undefined && OURS in f, KERNELS[i]).toBe(true));
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();

    // Replacements that hand some cases to the backend's own kernel still reach it after the
    // backend was set up: an inner-axis Sum and an untransposed product go there.
    // Σ of [[1, 2], [3, 4]] over axis 1 = [3, 7]; [[1, 2]]·[[3], [4]] = [[11]].
    const sum = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2]), 1);
    const product = tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1]));
    expect(Array.from(sum.dataSync())).toEqual([3, 7]);
    expect(Array.from(product.dataSync())).toEqual([11]);
  });
});
