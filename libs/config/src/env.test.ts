import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envNameOf, RESERVED_ENV } from './env.js';
import { FLAGS } from './flags.js';
import { resolveConfig } from './resolve-config.js';
import { parseConfig } from './parse-config.js';

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cfg-env-')), name);
  writeFileSync(path, text);
  return path;
}

describe('envNameOf', () => {
  it('turns camelCase keys into DPTRAIN_ SCREAMING_SNAKE_CASE', () => {
    expect(['batchSize', 'microBatchSize', 'psShards', 'beta1', 'lrStepSize', 'model'].map(envNameOf)).toEqual([
      'DPTRAIN_BATCH_SIZE',
      'DPTRAIN_MICRO_BATCH_SIZE',
      'DPTRAIN_PS_SHARDS',
      'DPTRAIN_BETA1',
      'DPTRAIN_LR_STEP_SIZE',
      'DPTRAIN_MODEL',
    ]);
  });

  it('gives every key its own variable except data, whose name is the per-process search root', () => {
    // A new key whose name collides with a reserved variable lands in this list and fails the test.
    expect(FLAGS.filter((f) => f.env === undefined).map((f) => f.key)).toEqual(['data']);
    const names = FLAGS.flatMap((f) => (f.env ? [f.env] : []));
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n in RESERVED_ENV)).toEqual([]);
    expect(names).toContain('DPTRAIN_BACKEND');
  });
});

describe('resolveConfig with env', () => {
  const saved = process.env.DPTRAIN_EPOCHS;
  afterEach(() => {
    if (saved === undefined) delete process.env.DPTRAIN_EPOCHS;
    else process.env.DPTRAIN_EPOCHS = saved;
  });

  it('takes each key from flags, then env, then the file, then the defaults', async () => {
    const file = tempFile('job.yaml', 'model: cnn\nepochs: 3\nlr: 0.01\nseed: 5\n');
    const config = await resolveConfig({
      file,
      env: { DPTRAIN_EPOCHS: '4', DPTRAIN_LR: '0.02', DPTRAIN_HIDDEN: '64,32' },
      flags: { epochs: '5', optimizer: undefined },
    });
    // epochs: flag 5 over env 4 over file 3; lr: env over file; model, seed: file; optimizer: default.
    expect(config).toMatchObject({ epochs: 5, lr: 0.02, hidden: [64, 32], model: 'cnn', seed: 5, optimizer: 'adam' });
  });

  it('reads no job key from reserved, unknown or empty variables', async () => {
    const config = await resolveConfig({
      env: {
        DPTRAIN_TOKEN: 'secret-of-the-test-job',
        DPTRAIN_JOB: 'job-1',
        DPTRAIN_OFFLINE: '1',
        DPTRAIN_LOG_LEVEL: 'debug',
        DPTRAIN_DEBUG: '1',
        DPTRAIN_DATA: '/nowhere',
        DPTRAIN_PORT: '7000',
        DPTRAIN_BATCHSIZE: '3',
        DPTRAIN_FUTURE_KEY: 'x',
        DPTRAIN_EPOCHS: '',
        BATCH_SIZE: '8',
      },
    });
    expect(config).toEqual({ ...parseConfig({}), out: expect.stringMatching(/^runs\/\d{8}-\d{6}-mlp$/) });
  });

  it('reads nothing from process.env unless it is passed', async () => {
    process.env.DPTRAIN_EPOCHS = '7';
    expect((await resolveConfig({})).epochs).toBe(1);
    expect((await resolveConfig({ env: process.env })).epochs).toBe(7);
  });

  it('names the variable whose text is not a number', async () => {
    await expect(resolveConfig({ env: { DPTRAIN_LR: 'fast' } })).rejects.toThrow('env DPTRAIN_LR = "fast": expected a number');
    await expect(resolveConfig({ env: { DPTRAIN_HIDDEN: '64,,32' } })).rejects.toThrow('env DPTRAIN_HIDDEN = "64,,32": expected comma-separated numbers');
  });

  it('names the variable whose value breaks a rule, and the flag when a flag gave it', async () => {
    await expect(resolveConfig({ env: { DPTRAIN_LR: '-0.1' } })).rejects.toThrow(
      'config (env + flags): lr (env DPTRAIN_LR) = -0.1: Too small: expected number to be >0',
    );
    await expect(resolveConfig({ env: { DPTRAIN_MICRO_BATCH_SIZE: '5' }, flags: { batchSize: '12' } })).rejects.toThrow(
      'microBatchSize (env DPTRAIN_MICRO_BATCH_SIZE) = 5: must divide batchSize (12)',
    );
    await expect(resolveConfig({ env: { DPTRAIN_MODEL: 'vgg' }, flags: { model: 'cnn', epochs: '0' } })).rejects.toThrow(/^config: epochs \(--epochs\) = 0/);
  });

  it('lets a flag override a bad variable without complaint', async () => {
    expect((await resolveConfig({ env: { DPTRAIN_LR: 'fast' }, flags: { lr: '0.1' } })).lr).toBe(0.1);
  });

  it('reads the file named by DPTRAIN_CONFIG unless --config names one', async () => {
    const fromEnv = tempFile('env.yaml', 'epochs: 2\n');
    const fromFlag = tempFile('flag.yaml', 'epochs: 6\n');
    expect((await resolveConfig({ env: { DPTRAIN_CONFIG: fromEnv } })).epochs).toBe(2);
    expect((await resolveConfig({ file: fromFlag, env: { DPTRAIN_CONFIG: fromEnv } })).epochs).toBe(6);
    expect((await resolveConfig({ env: { DPTRAIN_CONFIG: '' } })).epochs).toBe(1);
    await expect(resolveConfig({ env: { DPTRAIN_CONFIG: '/nonexistent/job.yaml' } })).rejects.toThrow(
      /cannot read config file \/nonexistent\/job.yaml: .*; check the DPTRAIN_CONFIG path/,
    );
    await expect(resolveConfig({ env: { DPTRAIN_CONFIG: fromEnv, DPTRAIN_SEED: '-1' } })).rejects.toThrow(
      `config (${fromEnv} + env + flags): seed (env DPTRAIN_SEED) = -1`,
    );
  });
});
