/**
 * Child: times a plain TensorFlow.js training loop, the baseline a TensorFlow.js user would
 * write: `tf.variable` weights (plain-tfjs-model.ts), `tf.losses.softmaxCrossEntropy`, and
 * `tf.train.adam(0.001).minimize(() => loss)` once per batch, the loss read back every step (as
 * a training loop that logs it does). Batches are the same data plan and `gather` as dptrain's,
 * so both read the same Float32Arrays. Timed like measure-dptrain.ts: each step from gathering
 * its batch to the update of the running batch-norm statistics.
 *
 * `--kernels dptrain` first registers `@dptrain/model`'s wasm training kernels (the ones dptrain
 * itself runs on), so the comparison isolates the trainer from the kernels; `--kernels stock`
 * runs TensorFlow.js as shipped (no `Conv2DBackpropFilter` on wasm: the CNN cannot train there).
 *
 *   node --import tsx bench/train/measure-tfjs.ts --model mlp --backend wasm --kernels stock
 */
import { initBackend } from '@dptrain/backend';
import { createDataPlan, gather } from '@dptrain/data';
import * as tf from '@tensorflow/tfjs-core';
import type { FlagSpec } from '../lib/args.js';
import { reportToParent } from '../lib/child.js';
import { epochsFor, loadBenchDataset } from './bench-data.js';
import { parseRequest, RoundClock, type StepTiming } from './measurement.js';
import { createPlainModel } from './plain-tfjs-model.js';
import { registerStockGradients } from './tfjs-gradients.js';

const KERNEL_SETS = ['dptrain', 'stock'] as const;
type KernelSet = (typeof KERNEL_SETS)[number];

const KERNEL_FLAG = { kernels: { kind: 'list', help: 'wasm kernels: dptrain or stock', default: ['stock'], choices: KERNEL_SETS } } satisfies Record<string, FlagSpec>;

await reportToParent(async (): Promise<StepTiming> => {
  const { request, extra } = parseRequest(process.argv.slice(2), KERNEL_FLAG);
  const kernels = extra.kernels[0] as KernelSet;
  await initBackend(request.backend);
  await registerStockGradients();
  if (kernels === 'dptrain') {
    // Creating a model is the public way to register them (@dptrain/model does not export the
    // registration); the model itself is not used. Stock gradients are already in place, and
    // the model only adds gradients that are missing.
    const { createModel } = await import('@dptrain/model');
    createModel({ name: request.model }).dispose();
  }
  const dataset = await loadBenchDataset();
  const train = dataset.train;
  const clock = new RoundClock(request);
  const totalSteps = clock.totalSteps;
  const { batchSize } = request;
  const plan = createDataPlan({
    numSamples: train.count,
    batchSize,
    microBatchSize: batchSize,
    epochs: epochsFor(dataset, batchSize, totalSteps),
    seed: request.seed,
  });
  const buffers = { x: new Float32Array(batchSize * train.features), y: new Int32Array(batchSize) };
  const model = createPlainModel(request.model, request.seed);
  const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  let tensorsAfterWarmup = 0;
  await clock.start();
  for (let t = 0; t < totalSteps; t++) {
    const batch = gather(train, plan.step(t).microBatches[0].indices, buffers);
    const cost = tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [batch.count, train.features]);
      const labels = tf.oneHot(tf.tensor1d(batch.y, 'int32'), dataset.numClasses);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x)), true, model.trainable)!;
    });
    model.updateRunningStats();
    const loss = cost.dataSync()[0];
    cost.dispose();
    if (!Number.isFinite(loss)) throw new RangeError(`plain TensorFlow.js loss is ${loss} at step ${t + 1}; the baseline diverged`);
    if (t + 1 === request.warmup) tensorsAfterWarmup = tf.memory().numTensors;
    await clock.tick();
  }
  const growth = tf.memory().numTensors - tensorsAfterWarmup;
  return {
    paramCount: model.paramCount,
    roundsMs: clock.roundsMs,
    batchSize,
    ...(growth !== 0 ? { notes: [`live tensors grew by ${growth} over the timed steps`] } : {}),
  };
});
