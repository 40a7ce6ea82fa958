import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@dptrain/config';
import { makeSyntheticDataset } from '@dptrain/data';
import { createModel } from '@dptrain/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { confusionMatrix } from './confusion.js';
import { evaluateSplit } from './evaluate.js';
import { modelConfigOf } from '@dptrain/job';
import { MODEL_METADATA_KEY, modelMetadata } from './model-metadata.js';
import { modelTensors } from './param-tensors.js';
import { RunFolder } from './run-folder.js';
import { loadRunModel } from './run-model.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const config = parseConfig({ model: 'cnn', channels: [2], dataset: 'synthetic' });
const dataset = makeSyntheticDataset({ trainSize: 10, testSize: 30 });

/** A finished run of `config` in a new folder: initial parameters, running statistics moved off (0, 1). */
async function writeRun(): Promise<{ dir: string; params: Float32Array; bnState: Float32Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'run-model-'));
  const model = createModel(modelConfigOf(config, dataset.inputShape, dataset.numClasses));
  const params = model.init(3);
  const bnState = model.initBnState().map((v, i) => v + 0.25 * ((i % 3) - 1));
  const run = await RunFolder.create(dir, { ...config, out: dir });
  await run.writeParams(modelTensors(model, params, bnState), { model: 'cnn', ...modelMetadata(model, 'synthetic') });
  return { dir, params, bnState };
}

describe('loadRunModel', () => {
  it("gives back the run's model, parameters and running statistics", async () => {
    const { dir, params, bnState } = await writeRun();
    const run = await loadRunModel(dir);
    expect(run.config.model).toBe('cnn');
    expect(run.model.config).toMatchObject({ name: 'cnn', channels: [2], inputShape: [28, 28, 1], numClasses: 10 });
    expect(run.params).toEqual(params);
    expect(run.bnState).toEqual(bnState);
    expect(run.classNames).toBeUndefined();
    expect(run.summary).toBeUndefined();
    expect(JSON.parse(run.metadata[MODEL_METADATA_KEY]!)).toMatchObject({ model: 'cnn', batchNorm: { epsilon: 1e-5 } });
    // Evaluating the loaded model is evaluating the written one.
    const predicted = new Int32Array(dataset.test.count);
    const loaded = evaluateSplit(run.model, run.params, run.bnState, dataset.test, { predicted, batchSize: 7 });
    expect(loaded).toEqual(evaluateSplit(run.model, params, bnState, dataset.test));
    const matrix = confusionMatrix(dataset.test.labels, predicted, 10);
    expect(matrix.reduce((sum, row, c) => sum + row[c]!, 0) / dataset.test.count).toBe(loaded.accuracy);
  });

  it('names the cause and the fix: no folder, no run, an unfinished run, files of different runs', async () => {
    const missing = join(tmpdir(), 'run-model-missing-folder');
    await expect(loadRunModel(missing)).rejects.toThrow(`${missing} does not exist; give the folder of a finished run`);
    const empty = mkdtempSync(join(tmpdir(), 'run-model-'));
    await expect(loadRunModel(empty)).rejects.toMatchObject({
      code: 'E_RUN_FOLDER',
      message: expect.stringContaining('is not a run folder (it has no config.json)'),
    });
    const { dir } = await writeRun();
    copyFileSync(join(dir, 'config.json'), join(empty, 'config.json'));
    await expect(loadRunModel(empty)).rejects.toThrow(`continue it with dptrain train --resume ${empty}`);
    writeFileSync(join(empty, 'cluster.json'), '{}');
    await expect(loadRunModel(empty)).rejects.toThrow(`continue it with dptrain local --resume ${empty}`);
    // config.json of another model beside the cnn's parameters.
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, channels: [3] }));
    await expect(loadRunModel(dir)).rejects.toThrow(
      /does not hold the cnn that .* describes \(tensor conv0\/kernel is \[3, 3, 1, 2\], the model's is \[3, 3, 1, 3\]\)/,
    );
  });
});

describe('confusionMatrix', () => {
  it('counts true class (rows) against predicted class (columns)', () => {
    expect(confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 2],
    ]);
  });
});
