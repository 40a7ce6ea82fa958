import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@dptrain/safetensors';
import { describe, expect, it } from 'vitest';
import { expectClock } from './metrics-file.js';
import { runCli } from './run-cli.js';

const SMALL = ['--dataset', 'synthetic', '--model', 'mlp', '--hidden', '32', '--batch-size', '32', '--micro-batch-size', '8', '--backend', 'cpu'];

describe('dptrain train', () => {
  it('writes the run folder of the contract', async () => {
    const out = mkdtempSync(join(tmpdir(), 'train-'));
    const result = await runCli(['train', ...SMALL, '--epochs', '2', '--out', out]);
    expect(result.stderr).toContain('TensorFlow.js backend: cpu');
    expect(result.code).toBe(0);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    // 2000 generated training samples / 32 per batch = 62 steps per epoch (16 samples dropped).
    expect(summary).toMatchObject({ backend: 'cpu', steps: 124, epochs: 2, config: { model: 'mlp', batchSize: 32, microBatchSize: 8 } });
    for (const key of ['wallSeconds', 'samplesPerSecond', 'trainLoss', 'testAccuracy']) expect(typeof summary[key]).toBe('number');
    expect(summary.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(summary.testAccuracy).toBeLessThanOrEqual(1);

    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.step)).toEqual(Array.from({ length: 124 }, (_, i) => i + 1));
    expect(lines.filter((l) => l.kind === 'eval').map((l) => [l.step, l.split])).toEqual([
      [62, 'test'],
      [124, 'test'],
    ]);
    // Epochs count from 1, as the progress display does; every record says when it was written.
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.epoch)).toEqual(Array.from({ length: 124 }, (_, i) => (i < 62 ? 1 : 2)));
    expect(lines.filter((l) => l.kind === 'eval').map((l) => l.epoch)).toEqual([1, 2]);
    expectClock(lines);
    // Per-tensor diagnostics at the first step and at each epoch's last step.
    const layers = lines.filter((l) => l.kind === 'layers');
    expect(layers.map((l) => l.step)).toEqual([1, 62, 124]);
    for (const l of layers) {
      expect(l.names).toEqual(['dense0/kernel', 'dense0/bias', 'dense1/kernel', 'dense1/bias']);
      expect(l.gradNorms).toHaveLength(4);
      for (const n of l.gradNorms) expect(n).toBeGreaterThan(0);
    }
    // Biases start at zero, so their ratio is undefined (null) at step 1 and positive afterwards.
    expect(layers[0].updateRatios[1]).toBeNull();
    for (const r of layers[2].updateRatios) expect(r).toBeGreaterThan(0);
    // Adam's first step moves every weight by about lr = 0.001 (m̂/√v̂ = ±1), so a kernel's update
    // ratio is 0.001·√n / ‖w‖ — small, but far from exploding or vanishing.
    expect(layers[0].updateRatios[0]).toBeGreaterThan(1e-4);
    expect(layers[0].updateRatios[0]).toBeLessThan(1e-1);

    const params = await readSafetensors(join(out, 'params.safetensors'));
    // 784·32 + 32 + 32·10 + 10 = 25,450 parameters in four tensors.
    expect([...params.tensors.keys()]).toEqual(['dense0/kernel', 'dense0/bias', 'dense1/kernel', 'dense1/bias']);
    expect([...params.tensors.values()].reduce((n, t) => n + t.data.length, 0)).toBe(25_450);
    expect(params.metadata).toMatchObject({ model: 'mlp', steps: '124', seed: '1', backend: 'cpu' });
  });

  it('gives the same bits for the same seed and different bits for another', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'a-')), mkdtempSync(join(tmpdir(), 'b-')), mkdtempSync(join(tmpdir(), 'c-'))];
    const seeds = ['7', '7', '8'];
    await Promise.all(dirs.map((out, i) => runCli(['train', ...SMALL, '--steps', '20', '--seed', seeds[i]!, '--out', out])));
    const bytes = dirs.map((d) => readFileSync(join(d, 'params.safetensors')));
    expect(bytes[0]!.equals(bytes[1]!)).toBe(true);
    expect(bytes[0]!.equals(bytes[2]!)).toBe(false);
  });

  it('exits non-zero naming the bad flag, its value and the fix', async () => {
    const result = await runCli(['train', '--batch-size', '64', '--micro-batch-size', '24']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '[E_CONFIG_VALUE] config: microBatchSize (--micro-batch-size) = 24: must divide batchSize (64); pick one of 1, 2, 4, 8, 16, 32, 64',
    );
  });

  it('refuses a hyper-parameter the optimizer does not use', async () => {
    const result = await runCli(['train', ...SMALL, '--optimizer', 'adam', '--momentum', '0.9', '--steps', '1', '--out', mkdtempSync(join(tmpdir(), 'x-'))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/momentum/);
  });
});

describe('dptrain train --data', () => {
  it('refuses a directory that does not hold the data set instead of searching elsewhere', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nodata-'));
    const result = await runCli(['train', '--data', empty, '--steps', '1', '--out', mkdtempSync(join(tmpdir(), 'x-'))], {
      DPTRAIN_DATA: '',
      XDG_CACHE_HOME: empty,
      DPTRAIN_OFFLINE: '1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--data ${empty}`);
  });
});
