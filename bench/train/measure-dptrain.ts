/**
 * Child: times dptrain's reference trainer, `trainReference` (what `dptrain train` runs), on
 * Fashion-MNIST with Adam (lr 0.001). The clock ticks in the `onStep` hook, so each timed step
 * is the whole real step: the data plan, gathering the micro-batches, one `computeGradients` per
 * micro-batch, summing in order, the optimizer update and the batch-norm running statistics.
 * Excluded: start-up (backend, data loading, model creation), waiting for turns, and the final
 * evaluation, which runs after the last hook. Writes no run folder.
 *
 *   node --import tsx bench/train/measure-dptrain.ts --model cnn --backend wasm --micro-batch-size 16
 */
import { initBackend } from '@dptrain/backend';
import { parseConfig } from '@dptrain/config';
import { trainReference } from '@dptrain/training';
import { reportToParent } from '../lib/child.js';
import { epochsFor, loadBenchDataset } from './bench-data.js';
import { parseRequest, RoundClock, type StepTiming } from './measurement.js';

await reportToParent(async (): Promise<StepTiming> => {
  const { request } = parseRequest(process.argv.slice(2));
  await initBackend(request.backend);
  const dataset = await loadBenchDataset();
  const clock = new RoundClock(request);
  const totalSteps = clock.totalSteps;
  const config = parseConfig({
    model: request.model,
    dataset: 'fashion-mnist',
    optimizer: 'adam',
    lr: 0.001,
    batchSize: request.batchSize,
    microBatchSize: request.microBatchSize,
    epochs: epochsFor(dataset, request.batchSize, totalSteps),
    steps: totalSteps,
    seed: request.seed,
    backend: request.backend,
  });
  await clock.start();
  const result = await trainReference(config, dataset, { onStep: () => clock.tick() });
  return { paramCount: result.model.paramCount, roundsMs: clock.roundsMs, batchSize: request.batchSize };
});
