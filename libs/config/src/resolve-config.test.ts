import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { FLAGS } from './flags.js';
import { resolveConfig } from './resolve-config.js';
import { parseConfig } from './parse-config.js';
import { defaultRunFolder } from './schema.js';

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cfg-')), name);
  writeFileSync(path, text);
  return path;
}

describe('parseConfig', () => {
  it('fills the documented defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ model: 'mlp', optimizer: 'adam', batchSize: 64, microBatchSize: 16, epochs: 1, seed: 1, backend: 'auto', mode: 'sync' });
    expect(config.hidden).toBeUndefined();
    expect(config.lr).toBeUndefined();
  });

  it('gives a run without --out a new folder under runs/, named for its time and model', () => {
    expect(defaultRunFolder('cnn', new Date(2026, 11, 6, 7, 5, 9))).toBe('runs/20261206-070509-cnn');
    expect(parseConfig({ model: 'resnet' }).out).toMatch(/^runs\/\d{8}-\d{6}-resnet$/);
    expect(parseConfig({ out: 'mine' }).out).toBe('mine');
  });

  it('names the key, the flag, the value and the rule', () => {
    expect(() => parseConfig({ lr: -0.1 })).toThrow('config: lr (--lr) = -0.1: Too small: expected number to be >0');
  });

  it('rejects a micro-batch size that does not divide the batch, listing the ones that do', () => {
    expect(() => parseConfig({ batchSize: 12, microBatchSize: 5 })).toThrow(
      'microBatchSize (--micro-batch-size) = 5: must divide batchSize (12); pick one of 1, 2, 3, 4, 6, 12',
    );
  });

  it('rejects unknown keys by name', () => {
    const error = (() => {
      try {
        parseConfig({ batchsize: 10 });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('E_CONFIG_VALUE');
    expect(error?.message).toMatch(/unknown key "batchsize"; known keys: model, hidden, channels,/);
  });

  it('reports every bad key at once', () => {
    expect(() => parseConfig({ model: 'vgg', epochs: 0 })).toThrow(/model \(--model\) = "vgg".*\n.*epochs \(--epochs\) = 0/);
  });
});

describe('resolveConfig', () => {
  it('lets flags override the YAML file', async () => {
    const file = tempFile('job.yaml', 'model: cnn\nepochs: 3\nlr: 0.01\n');
    const config = await resolveConfig({ file, flags: { epochs: '5', hidden: '32,16', optimizer: undefined } });
    expect(config).toMatchObject({ model: 'cnn', epochs: 5, lr: 0.01, hidden: [32, 16], optimizer: 'adam' });
  });

  it('reads JSON files', async () => {
    const file = tempFile('job.json', '{"optimizer": "nesterov", "momentum": 0.8}');
    expect(await resolveConfig({ file })).toMatchObject({ optimizer: 'nesterov', momentum: 0.8 });
  });

  it('names the flag whose text is not a number', async () => {
    await expect(resolveConfig({ flags: { lr: 'fast' } })).rejects.toThrow('flag --lr = "fast": expected a number');
  });

  it('says which file is unreadable or malformed', async () => {
    await expect(resolveConfig({ file: '/nonexistent/job.yaml' })).rejects.toThrow(/cannot read config file \/nonexistent\/job.yaml/);
    const bad = tempFile('bad.json', '{"model": ');
    await expect(resolveConfig({ file: bad })).rejects.toThrow(/config file .*bad.json is not valid JSON/);
    const list = tempFile('list.yaml', '- 1\n- 2\n');
    await expect(resolveConfig({ file: list })).rejects.toThrow(/must hold a mapping of keys to values, not a list/);
  });

  it('derives one kebab-case flag per key', () => {
    expect(FLAGS.find((f) => f.key === 'microBatchSize')).toEqual({
      key: 'microBatchSize',
      flag: '--micro-batch-size',
      kind: 'number',
      env: 'DPTRAIN_MICRO_BATCH_SIZE',
      description: 'Samples per unit of work; divides batchSize and does not depend on the number of workers.',
      defaultText: '16',
      cluster: false,
    });
    expect(FLAGS.find((f) => f.key === 'psShards')).toMatchObject({ flag: '--ps-shards', cluster: true, defaultText: '1' });
    expect(FLAGS.find((f) => f.key === 'hidden')).toMatchObject({ kind: 'integer-list', defaultText: undefined });
    expect(FLAGS.find((f) => f.key === 'model')?.kind).toBe('string');
  });

  it('gives every key a description, and no flag commander would read as a negation (--no-…)', () => {
    expect(FLAGS.filter((f) => f.description === f.key).map((f) => f.key)).toEqual([]);
    expect(FLAGS.filter((f) => f.flag.startsWith('--no-')).map((f) => f.flag)).toEqual([]);
  });

  it('names the new key of a renamed one', () => {
    expect(() => parseConfig({ noWorkerTimeoutMs: 5000 }, 'job.yaml')).toThrow(
      /job.yaml: "noWorkerTimeoutMs" is now workerlessTimeoutMs \(its flag --no-worker-timeout-ms read as the negation of --worker-timeout-ms\)/,
    );
  });
});
