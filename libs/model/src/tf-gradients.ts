/**
 * Registers the TensorFlow.js gradient functions our models need.
 *
 * Why this file exists: the Node entry of `@tensorflow/tfjs-core` (`dist/tf-core.node.js`)
 * registers no gradients, and its `dist/register_all_gradients.js` cannot be imported under
 * tsx or plain Node (one of its files imports the directory `../base` ambiguously and fails with
 * ERR_UNSUPPORTED_DIR_IMPORT). The single gradient files do load, and the registry they write to
 * is global, so importing the few we use and registering them on our `tf` works everywhere.
 * Batch normalization and the loss carry their own gradients (`tf.customGrad`) and need none.
 * A model op without a registered gradient fails with "gradient function not found for <Kernel>":
 * add its config here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Add_grad.js';
import { batchMatMulGradConfig } from '@tensorflow/tfjs-core/dist/gradients/BatchMatMul_grad.js';
import { conv2DGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Conv2D_grad.js';
import { maxPoolGradConfig } from '@tensorflow/tfjs-core/dist/gradients/MaxPool_grad.js';
import { meanGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Mean_grad.js';
import { multiplyGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Multiply_grad.js';
import { reluGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Relu_grad.js';
import { reshapeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js';

const CONFIGS: readonly tf.GradConfig[] = [
  addGradConfig,
  batchMatMulGradConfig,
  conv2DGradConfig,
  maxPoolGradConfig,
  meanGradConfig,
  multiplyGradConfig,
  reluGradConfig,
  reshapeGradConfig,
];

/** Idempotent; leaves gradients that someone else registered first untouched. */
export function registerTrainingGradients(): void {
  for (const config of CONFIGS) {
    if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
}
