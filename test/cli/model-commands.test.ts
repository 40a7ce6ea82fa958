import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';
import { initBackend } from '@dptrain/backend';
import { encodeIdx, gather, makeSyntheticDataset } from '@dptrain/data';
import { readSafetensors } from '@dptrain/safetensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { heavy, runTraced } from './traced-cli.js';

// dptrain eval, predict and export on small runs of the generated data set (its test split: 500
// samples, 50 per class), against the runs' own summary.json and the model's own predictions.

const SMALL = ['--dataset', 'synthetic', '--batch-size', '32', '--micro-batch-size', '8', '--backend', 'cpu', '--steps', '12'];
const RUNS = {
  mlp: ['--model', 'mlp', '--hidden', '32'],
  cnn: ['--model', 'cnn', '--channels', '4,8', '--steps', '40'],
  fixup: ['--model', 'resnet', '--norm', 'fixup', '--blocks', '1', '--width', '4', '--steps', '1'],
} as const;
type RunName = keyof typeof RUNS;

const root = mkdtempSync(join(tmpdir(), 'model-commands-'));
const runDir = (name: RunName): string => join(root, name);
const summaryOf = (name: RunName): { testAccuracy: number } => JSON.parse(readFileSync(join(runDir(name), 'summary.json'), 'utf8'));
const { test } = makeSyntheticDataset();
const images = test.images as Uint8Array;

/** The test split as the IDX files of a data set, for predict and for the numpy snippet. */
function writeTestIdx(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx([test.count, 28, 28], images)));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([test.count], test.labels)));
}

/** Sample `index` of the test split as an RGBA PNG of gray pixels (`side`×`side`: other sizes are refused). */
function writePng(path: string, index: number, side = 28): void {
  const png = new PNG({ width: side, height: side });
  for (let i = 0; i < side * side; i++) {
    const v = images[index * 784 + (i % 784)]!;
    png.data.set([v, v, v, 255], 4 * i);
  }
  writeFileSync(path, PNG.sync.write(png));
}

/** The one `dptrain: …` line of a failed command's stderr. */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('dptrain: '));
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

interface EvalReport {
  accuracy: number;
  loss: number;
  count: number;
  correct: number;
  summaryAccuracy: number;
  confusion: number[][];
  predicted: number[];
  classNames: string[] | null;
}

const evalReports = new Map<RunName, EvalReport>();
async function evalJson(name: 'mlp' | 'cnn'): Promise<EvalReport> {
  if (!evalReports.has(name)) {
    const result = await runCli(['eval', runDir(name), '--json']);
    expect(result.code, result.stderr).toBe(0);
    evalReports.set(name, JSON.parse(result.stdout));
  }
  return evalReports.get(name)!;
}

beforeAll(async () => {
  const results = await Promise.all((Object.keys(RUNS) as RunName[]).map((name) => runCli(['train', ...SMALL, ...RUNS[name], '--out', runDir(name)])));
  for (const result of results) expect(result.code, result.stderr).toBe(0);
  writeTestIdx(join(root, 'data'));
});

describe('dptrain eval', () => {
  for (const name of ['mlp', 'cnn'] as const) {
    it(`${name}: the accuracy of summary.json, and a confusion matrix of the test split`, async () => {
      const report = await evalJson(name);
      expect(report.accuracy).toBe(summaryOf(name).testAccuracy);
      expect(report.summaryAccuracy).toBe(summaryOf(name).testAccuracy);
      expect(report.count).toBe(500);
      expect(report.classNames).toBeNull();
      // Rows are true classes: their sums are the class counts (50 each), the diagonal the correct ones.
      expect(report.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(Array.from({ length: 10 }, () => 50));
      const diagonal = report.confusion.reduce((sum, row, c) => sum + row[c]!, 0);
      expect(diagonal).toBe(report.correct);
      expect(diagonal / 500).toBe(report.accuracy);
      // Columns are predicted classes: the per-sample predictions add up to them.
      const columns = Array.from({ length: 10 }, (_, c) => report.predicted.filter((p) => p === c).length);
      expect(columns).toEqual(Array.from({ length: 10 }, (_, c) => report.confusion.reduce((sum, row) => sum + row[c]!, 0)));
      // Not a trivial model: some samples right, some wrong, so the matrix has something to show.
      expect(report.accuracy).toBeGreaterThan(0.2);
      expect(report.accuracy).toBeLessThan(1);
    });
  }

  it('prints the same numbers as text: loss, accuracy against summary.json, the matrix with totals and recall', async () => {
    const report = await evalJson('cnn');
    const result = await runCli(['eval', runDir('cnn')]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`${runDir('cnn')}: cnn on synthetic, 500 test samples, backend cpu`);
    expect(lines[1]).toBe(
      `test loss ${report.loss.toFixed(4)}, accuracy ${report.accuracy.toFixed(4)} (${report.correct} of 500; summary.json: ${report.accuracy.toFixed(4)}, the same)`,
    );
    expect(lines[3]).toBe('confusion matrix (rows: true class, columns: predicted class)');
    expect(lines[4]!.split(/\s+/).filter(Boolean)).toEqual([...'0123456789', 'total', 'recall']);
    report.confusion.forEach((row, t) => {
      const recall = `${((100 * row[t]!) / 50).toFixed(1)}%`;
      expect(lines[5 + t]!.split(/\s+/).filter(Boolean)).toEqual([String(t), ...row.map(String), '50', recall]);
    });
    expect(lines[15]!.split(/\s+/)[0]).toBe('total');
  });
});

describe('dptrain predict', () => {
  it('gives each sample of an IDX file and a PNG the class the model gives it in eval, with its softmax probabilities', async () => {
    const report = await evalJson('cnn');
    const png = join(root, 'sample7.png');
    writePng(png, 7);
    const idx = join(root, 'data', 't10k-images-idx3-ubyte.gz');
    const result = await runCli(['predict', runDir('cnn'), idx, png, '--limit', '40', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { predictions } = JSON.parse(result.stdout) as { predictions: { file: string; index: number; class: number; name: null; probabilities: number[] }[] };
    expect(predictions.map((p) => [p.file, p.index])).toEqual([...Array.from({ length: 40 }, (_, i) => [idx, i]), [png, 0]]);
    expect(predictions.map((p) => p.class)).toEqual([...report.predicted.slice(0, 40), report.predicted[7]]);
    for (const p of predictions) {
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      expect(Math.max(...p.probabilities)).toBe(p.probabilities[p.class]);
    }
    // The model is not certain of everything: the probabilities are the model's, not one-hot.
    expect(predictions.some((p) => p.probabilities[p.class]! < 0.99)).toBe(true);

    const text = await runCli(['predict', runDir('cnn'), png]);
    expect(text.code, text.stderr).toBe(0);
    const png7 = predictions[40]!;
    expect(text.stdout).toBe(
      `sample7.png  ${png7.class}  p=${png7.probabilities[png7.class]!.toFixed(3)}  [${png7.probabilities.map((q) => q.toFixed(3)).join(' ')}]\n`,
    );
  });
});

/** The test split's accuracy of the exported Layers model, loaded from its files with tfjs-layers alone. */
async function exportedAccuracy(dir: string): Promise<number> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weights = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  const { x, y } = gather(
    test,
    Array.from({ length: test.count }, (_, i) => i),
  );
  const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor(x, [test.count, 28, 28, 1])) as tf.Tensor, 1).dataSync());
  model.dispose();
  return predicted.filter((p, i) => p === y[i]).length / test.count;
}

describe('dptrain export --format tfjs', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  for (const name of ['mlp', 'cnn'] as const) {
    it(`${name}: a Layers model with summary.json's test accuracy`, async () => {
      const result = await runCli(['export', runDir(name), '--format', 'tfjs']);
      expect(result.code, result.stderr).toBe(0);
      const out = join(runDir(name), 'tfjs');
      expect(result.stdout).toContain(`wrote ${join(out, 'model.json')} and ${join(out, 'weights.bin')}`);
      expect(await exportedAccuracy(out)).toBe(summaryOf(name).testAccuracy);
      const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.userDefinedMetadata.dptrain.model).toBe(name);
      const layers = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
      expect(layers.at(-1)).toBe('Activation');
      if (name === 'cnn') {
        const block = ['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D'];
        expect(layers).toEqual(['InputLayer', ...block, ...block, 'Flatten', 'Dense', 'Activation']);
        expect(json.modelTopology.config.layers.find((l: { name: string }) => l.name === 'bn0').config.epsilon).toBe(1e-5);
      }
    });
  }

  it('--out names the folder', async () => {
    const out = join(root, 'exported-mlp');
    const result = await runCli(['export', runDir('mlp'), '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(await exportedAccuracy(out)).toBe(summaryOf('mlp').testAccuracy);
  });
});

describe('params.safetensors metadata', () => {
  it('describes input, scaling, layers with their tensors and activations, batch norm and classes', async () => {
    const { metadata, tensors } = await readSafetensors(join(runDir('cnn'), 'params.safetensors'));
    expect(metadata).toMatchObject({ model: 'cnn', backend: 'cpu', steps: '40', seed: '1' });
    const description = JSON.parse(metadata['dptrain.model']!);
    expect(description).toMatchObject({
      format: 'dptrain.model/1',
      model: 'cnn',
      dataset: 'synthetic',
      input: { shape: [28, 28, 1], layout: 'NHWC', dtype: 'float32' },
      output: { kind: 'logits', classes: 10, classNames: null },
      kernelLayout: { dense: expect.stringContaining('[in, out]'), conv2d: expect.stringContaining('[kh, kw, in, out]') },
      batchNorm: { epsilon: 1e-5, runningStatistics: expect.stringContaining('(mean, variance)') },
    });
    expect(description.input.scaling).toContain('uint8 / 255');
    expect(description.layers.map((l: { op: string; activation?: string }) => `${l.op}${l.activation ? `:${l.activation}` : ''}`)).toEqual([
      'conv2d:linear',
      'batchnorm:relu',
      'maxpool',
      'conv2d:linear',
      'batchnorm:relu',
      'maxpool',
      'flatten',
      'dense:linear',
    ]);
    // Every tensor the layers name is in the file, and every tensor of the file is named by a layer.
    const named = description.layers.flatMap((l: Record<string, unknown>) =>
      ['kernel', 'bias', 'gamma', 'beta', 'mean', 'variance'].map((k) => l[k]).filter(Boolean),
    );
    expect([...named].sort()).toEqual([...tensors.keys()].sort());
    expect(Object.keys(description.ops).sort()).toEqual(['batchnorm', 'conv2d', 'dense', 'flatten', 'maxpool']);
  });
});

describe('the numpy snippet of docs/USING-A-MODEL.md', () => {
  const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
  if (!numpy) console.warn('skipping the numpy snippet test: python3 with numpy is not installed');
  it.skipIf(!numpy)("prints the mlp run's summary.json accuracy from params.safetensors and the IDX files alone", () => {
    const doc = readFileSync(new URL('../../docs/USING-A-MODEL.md', import.meta.url), 'utf8');
    const snippet = /<!-- numpy-snippet[^\n]*\n```python\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(snippet).toBeDefined();
    expect(snippet!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
    const script = join(root, 'snippet.py');
    writeFileSync(script, snippet!);
    const result = spawnSync('python3', [script, runDir('mlp'), join(root, 'data')], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(`accuracy ${summaryOf('mlp').testAccuracy.toFixed(4)}\n`);
  });
});

describe('errors a user can cause: one line naming the cause and the fix', () => {
  it('a folder that does not exist, or is no run', async () => {
    const missing = join(root, 'nope');
    const a = await runCli(['eval', missing]);
    expect(a.code).toBe(1);
    expect(errorLine(a.stderr)).toBe(
      `dptrain: [E_RUN_FOLDER] ${missing} does not exist; give the folder of a finished run (the --out of dptrain train or dptrain local, e.g. runs/latest)`,
    );
    const empty = mkdtempSync(join(root, 'empty-'));
    const b = await runCli(['predict', empty, join(root, 'sample7.png')]);
    expect(b.code).toBe(1);
    expect(errorLine(b.stderr)).toContain(`[E_RUN_FOLDER] ${empty} is not a run folder (it has no config.json); give the folder of a finished run`);
  });

  it('a run without params.safetensors (still going, or stopped): suggests --resume', async () => {
    const unfinished = mkdtempSync(join(root, 'unfinished-'));
    copyFileSync(join(runDir('mlp'), 'config.json'), join(unfinished, 'config.json'));
    const result = await runCli(['export', unfinished]);
    expect(result.code).toBe(1);
    expect(errorLine(result.stderr)).toBe(
      `dptrain: [E_RUN_FOLDER] ${unfinished} has no params.safetensors: its run has not finished (it is still going, or it stopped before the end); let it finish, or continue it with dptrain train --resume ${unfinished}, then try again`,
    );
  });

  it('an image of another size, a file that is no image', async () => {
    const small = join(root, 'small.png');
    writePng(small, 0, 20);
    const a = await runCli(['predict', runDir('mlp'), small]);
    expect(a.code).toBe(1);
    expect(errorLine(a.stderr)).toBe(`dptrain: [E_IMAGE_SIZE] ${small} is 20×20 pixels but the model takes 28×28 images; resize it to 28×28`);
    const b = await runCli(['predict', runDir('mlp'), join(runDir('mlp'), 'config.json')]);
    expect(b.code).toBe(1);
    expect(errorLine(b.stderr)).toContain(`[E_IMAGE_FORMAT] ${join(runDir('mlp'), 'config.json')} is neither a PNG nor an IDX file of images`);
  });

  it('an unknown export format; a Fixup resnet, which no Keras layer holds', async () => {
    const a = await runCli(['export', runDir('mlp'), '--format', 'onnx']);
    expect(a.code).toBe(1);
    expect(errorLine(a.stderr)).toBe(
      'dptrain: [E_CONFIG_VALUE] --format onnx is not an export format; give --format tfjs (a TensorFlow.js Layers model: model.json and weights.bin)',
    );
    const b = await runCli(['export', runDir('fixup')]);
    expect(b.code).toBe(1);
    expect(errorLine(b.stderr)).toMatch(
      /^dptrain: \[E_MODEL_EXPORT\] a Fixup resnet has scalar biases and multipliers \(stem\/fixup_bias, .*\) that no Keras layer holds; .*--norm batchnorm/,
    );
  });
});

describe('modules the model commands load', () => {
  it('neither TensorFlow.js nor tfjs-layers for their help or a dry run', async () => {
    // From the sources, where each module of ours is a file of its own (loaded-modules.test.ts checks the bundle).
    const sources = { DPTRAIN_BUNDLE: '0' };
    const runs = await Promise.all([
      runTraced(['--help'], sources),
      runTraced(['eval', '--help'], sources),
      runTraced(['--dry-run', 'eval', runDir('mlp')], sources),
      runTraced(['--dry-run', 'predict', runDir('mlp'), 'x.png'], sources),
      runTraced(['--dry-run', 'export', runDir('mlp')], sources),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.every((r) => r.imports.some((u) => u.endsWith('/apps/cli/src/cli/model-commands.ts')))).toBe(true);
    expect(runs.map((r) => heavy(r.imports))).toEqual(runs.map(() => []));
  });
});
