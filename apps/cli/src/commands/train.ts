import { initBackend } from '@dptrain/backend';
import { resolve } from 'node:path';
import { ConfigError, type JobConfig } from '@dptrain/config';
import { loadDataset, type Dataset } from '@dptrain/data';
import { modelMetadata, modelTensors, readTrainerCheckpoint, RunFolder, trainReference, writeTrainerCheckpoint } from '@dptrain/training';
import type { Logger } from '../logger.js';
import { TrainingProgress } from '../progress.js';

export async function loadJobDataset(config: JobConfig, logger: Logger): Promise<Dataset> {
  const dataset = await loadDataset({
    name: config.dataset,
    ...(config.data ? { dataDir: config.data } : {}),
    // DPTRAIN_OFFLINE=1 keeps a run (and the tests) from ever reaching for the network.
    download: process.env.DPTRAIN_OFFLINE !== '1',
    // The generated set keeps its own seed (0): --seed varies the shuffles, not the data.
    synthetic: {},
  });
  // The search order would quietly pass over a mistyped --data; a path the user named must hold the data.
  if (config.data && config.dataset !== 'synthetic' && !resolve(dataset.source).startsWith(resolve(config.data))) {
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `--data ${config.data} holds no ${config.dataset} IDX files (found them in ${dataset.source} instead); fix the path, or drop --data to use the search order`,
    );
  }
  logger.info({ dataset: dataset.name, source: dataset.source, train: dataset.train.count, test: dataset.test.count }, 'data set loaded');
  return dataset;
}

/**
 * `dptrain train`: the single-process reference trainer, writing the run folder and, every
 * checkpointEvery steps and at each epoch's end, a checkpoint `resume` continues from (the steps
 * after it, logged again, replace those the stopped run had logged).
 */
export async function runTrain(config: JobConfig, logger: Logger, resume = false): Promise<void> {
  const state = resume ? await readTrainerCheckpoint(config) : undefined;
  const backend = await initBackend(config.backend);
  logger.info({ backend: backend.name, tried: backend.tried }, `TensorFlow.js backend: ${backend.name}`);
  const dataset = await loadJobDataset(config, logger);
  const run = state ? await RunFolder.reopen(config.out) : await RunFolder.create(config.out, config);
  if (state) {
    await run.keepRecordsUpTo('metrics.jsonl', state.step);
    logger.info({ step: state.step }, `resuming ${config.out} after step ${state.step}`);
  }
  let progress: TrainingProgress | undefined;
  const started = performance.now();
  const result = await trainReference(config, dataset, {
    ...(state ? { resume: state } : {}),
    onCheckpoint: (checkpoint) => writeTrainerCheckpoint(config, checkpoint),
    onStep: async (record, plan) => {
      progress ??= new TrainingProgress('train', { ...plan, batchSize: config.batchSize });
      progress.step(record);
      await run.appendMetrics(record);
    },
    onLayers: (record) => run.appendMetrics(record),
    onEval: async (record) => {
      progress?.eval(record);
      logger.debug(record, `${record.split} accuracy ${(record.accuracy * 100).toFixed(2)}% loss ${record.loss.toFixed(4)} after step ${record.step}`);
      await run.appendMetrics(record);
    },
  });
  const wallSeconds = (performance.now() - started) / 1000;
  await run.writeParams(modelTensors(result.model, result.params, result.bnState), {
    model: config.model,
    backend: backend.name,
    steps: String(result.steps),
    seed: String(config.seed),
    ...modelMetadata(result.model, config.dataset),
  });
  const summary = {
    config,
    backend: backend.name,
    steps: result.steps,
    epochs: result.epochs,
    wallSeconds,
    samplesPerSecond: result.samples / wallSeconds,
    trainLoss: result.trainLoss,
    testAccuracy: result.test.accuracy,
    testLoss: result.test.loss,
    ...(result.validation ? { validationAccuracy: result.validation.accuracy, validationLoss: result.validation.loss } : {}),
    paramCount: result.model.paramCount,
    dataSource: dataset.source,
  };
  await run.writeSummary(summary);
  progress?.finish({ steps: result.steps, testAccuracy: result.test.accuracy, testLoss: result.test.loss, wallSeconds, out: run.dir });
  logger.info(
    { out: run.dir, testAccuracy: summary.testAccuracy, samplesPerSecond: Math.round(summary.samplesPerSecond), wallSeconds: Number(wallSeconds.toFixed(1)) },
    'training finished',
  );
}
