import * as tf from '@tensorflow/tfjs-core';
// The backend's own kernels must be registered before ours replace some of them.
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { fastConv2DBackpropInput } from './conv2d-backprop-input.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { leadingAxesReduction } from './reduce-leading.js';
import { transposedMatMul } from './transposed-mat-mul.js';

/** Marks our kernel functions, across module copies, so registering twice is a no-op. */
const OURS = Symbol.for('dptrain.wasmTrainingKernel');

interface TrainingKernel {
  readonly kernelName: string;
  /** Builds our kernel; `original` is the backend's own kernel for the same name, if any. */
  make(original: tf.KernelConfig | undefined): tf.KernelFunc;
}

const TRAINING_KERNELS: readonly TrainingKernel[] = [
  { kernelName: tf.Conv2DBackpropFilter, make: () => conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: tf.Conv2DBackpropInput, make: (original) => fastConv2DBackpropInput(requireKernel(original, tf.Conv2DBackpropInput)) },
  { kernelName: tf.MaxPoolGrad, make: () => maxPoolGrad as unknown as tf.KernelFunc },
  { kernelName: tf.Sum, make: (original) => leadingAxesReduction('Sum', requireKernel(original, tf.Sum)) },
  { kernelName: tf.Mean, make: (original) => leadingAxesReduction('Mean', requireKernel(original, tf.Mean)) },
  { kernelName: tf.BatchMatMul, make: (original) => transposedMatMul(requireKernel(original, tf.BatchMatMul)) },
];

/**
 * Registers, for TensorFlow.js's wasm backend, the kernels that training convolutional nets needs
 * and the backend lacks (`Conv2DBackpropFilter`), plus replacements for kernels of the backend
 * that are wrong or slow on the training path (`MaxPoolGrad`, and fast paths of `Sum`, `Mean`,
 * `BatchMatMul`). Idempotent; safe to call before or after the wasm backend is initialised
 * (kernels are looked up at every op, and each replacement keeps the original's `setupFunc`).
 */
export function registerWasmTrainingKernels(): void {
  for (const { kernelName, make } of TRAINING_KERNELS) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current !== undefined && OURS in current.kernelFunc) continue;
    const kernelFunc = make(current);
    Object.defineProperty(kernelFunc, OURS, { value: true });
    if (current !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    const config: tf.KernelConfig = { kernelName, backendName: 'wasm', kernelFunc };
    if (current?.setupFunc !== undefined) config.setupFunc = current.setupFunc;
    tf.registerKernel(config);
  }
}

function requireKernel(config: tf.KernelConfig | undefined, kernelName: string): tf.KernelFunc {
  if (config === undefined) {
    throw new Error(`The wasm backend has no '${kernelName}' kernel to extend; @tensorflow/tfjs-backend-wasm 4.22 registers one — check that a single, complete copy of it is installed.`);
  }
  return config.kernelFunc;
}
