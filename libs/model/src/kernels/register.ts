import * as tf from '@tensorflow/tfjs-core';
// The backend's own kernels must be registered before ours replace some of them.
import '@tensorflow/tfjs-backend-wasm';
import { repeatedBroadcast } from './broadcast-binary.js';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { fastConv2DBackpropInput } from './conv2d-backprop-input.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { leadingAxesReduction } from './reduce-leading.js';
import { sharedIdentity } from './shared-identity.js';
import { transposedMatMul } from './transposed-mat-mul.js';

/** Marks our kernel functions, across module copies, so registering twice is a no-op. */
const OURS = Symbol.for('dptrain.wasmTrainingKernel');

interface TrainingKernel {
  readonly kernelName: string;
  /** `missing`: the backend has none; `replacement`: ours replaces the backend's own. */
  readonly kind: 'missing' | 'replacement';
  /** Builds our kernel; `original` is the backend's own kernel for the same name, if any. */
  make(original: tf.KernelConfig | undefined): tf.KernelFunc;
}

const TRAINING_KERNELS: readonly TrainingKernel[] = [
  { kernelName: tf.Conv2DBackpropFilter, kind: 'missing', make: () => conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: tf.Conv2DBackpropInput, kind: 'replacement', make: (original) => fastConv2DBackpropInput(requireKernel(original, tf.Conv2DBackpropInput)) },
  { kernelName: tf.MaxPoolGrad, kind: 'replacement', make: () => maxPoolGrad as unknown as tf.KernelFunc },
  { kernelName: tf.Sum, kind: 'replacement', make: (original) => leadingAxesReduction('Sum', requireKernel(original, tf.Sum)) },
  { kernelName: tf.Mean, kind: 'replacement', make: (original) => leadingAxesReduction('Mean', requireKernel(original, tf.Mean)) },
  { kernelName: tf.BatchMatMul, kind: 'replacement', make: (original) => transposedMatMul(requireKernel(original, tf.BatchMatMul)) },
  ...[tf.Add, tf.Sub, tf.Multiply, tf.RealDiv].map(
    (kernelName): TrainingKernel => ({ kernelName, kind: 'replacement', make: (original) => repeatedBroadcast(requireKernel(original, kernelName)) }),
  ),
  ...[tf.Identity, tf.Cast].map(
    (kernelName): TrainingKernel => ({ kernelName, kind: 'replacement', make: (original) => sharedIdentity(requireKernel(original, kernelName)) }),
  ),
];

export interface WasmTrainingKernelOptions {
  /**
   * Also replace the backend's own kernels that are wrong or slow on the training path. `false`
   * adds only the missing kernels, leaving TensorFlow.js's own (including its faulty
   * `MaxPoolGrad`): meant for comparisons such as bench/kernels.bench.ts. Replacements, once
   * registered, stay.
   * @default true
   */
  readonly replace?: boolean;
}

/**
 * Registers, for TensorFlow.js's wasm backend, the kernels that training convolutional nets needs
 * and the backend lacks (`Conv2DBackpropFilter`), and replaces kernels of the backend that are
 * wrong or slow on the training path: `MaxPoolGrad` (drops the gradient of windows with no
 * positive value), `Conv2DBackpropInput` (scalar loop), and fast paths of `Sum`, `Mean`,
 * `BatchMatMul`, `Add`, `Sub`, `Multiply`, `RealDiv`, `Identity` and `Cast` that hand every
 * other case to the backend's own kernel.
 *
 * Idempotent (a second call registers nothing and prints no warning, also from another copy of
 * this module); safe before or after the wasm backend is initialised: kernels are looked up at
 * every op, and each replacement keeps the original's `setupFunc`, which the backend runs when it
 * initialises.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): void {
  const replace = options.replace ?? true;
  for (const { kernelName, kind, make } of TRAINING_KERNELS) {
    if (kind === 'replacement' && !replace) continue;
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
    throw new Error(
      `The wasm backend has no '${kernelName}' kernel to extend; @tensorflow/tfjs-backend-wasm 4.22 registers one — check that a single, complete copy of it is installed.`,
    );
  }
  return config.kernelFunc;
}
