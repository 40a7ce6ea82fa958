import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@dptrain/config';
import { describe, expect, it } from 'vitest';
import { dryRun, DryRunRefused } from './dry-run.js';

// The dry run is what the compose and Kubernetes checks run on each container's command line; these
// pin down that it resolves flags, environment and config file the way the roles do.

async function refusal(args: string[], env: Record<string, string>): Promise<{ exitCode: number; stderr: string } | undefined> {
  try {
    await dryRun(args, env);
    return undefined;
  } catch (error) {
    if (error instanceof DryRunRefused) return { exitCode: error.exitCode, stderr: error.stderr };
    throw error;
  }
}

describe('dptrain --dry-run', () => {
  it('takes role options from flags, then DPTRAIN_ variables, then defaults', async () => {
    const [fromEnv, fromFlag] = await Promise.all([
      dryRun(['coordinator'], { DPTRAIN_PORT: '7100', DPTRAIN_HOST: '0.0.0.0' }),
      dryRun(['coordinator', '--port', '7200', '--resume'], { DPTRAIN_PORT: '7100' }),
    ]);
    // --host's default is 127.0.0.1.
    expect([fromEnv.options, fromFlag.options]).toEqual([
      { host: '0.0.0.0', port: 7100, resume: false },
      { host: '127.0.0.1', port: 7200, resume: true },
    ]);
  });

  it('takes job keys from flags, then env, then the DPTRAIN_CONFIG file, then defaults', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dry-run-')), 'job.yaml');
    writeFileSync(file, 'batchSize: 128\nmicroBatchSize: 32\nepochs: 3\nseed: 9\n');
    const settings = await dryRun(['coordinator', '--epochs', '5'], {
      DPTRAIN_CONFIG: file,
      DPTRAIN_BATCH_SIZE: '32',
      DPTRAIN_MICRO_BATCH_SIZE: '8',
      DPTRAIN_EPOCHS: '4',
    });
    // batchSize, microBatchSize: env over file; epochs: flag over env and file; seed: file; optimizer: default.
    expect(settings.config).toMatchObject({ batchSize: 32, microBatchSize: 8, epochs: 5, seed: 9, optimizer: 'adam' });
  });

  it('reads the parameter server and worker options from the environment', async () => {
    const [ps, worker] = await Promise.all([
      dryRun(['ps', '--resume'], {
        DPTRAIN_COORDINATOR: 'ws://coordinator:7000/',
        DPTRAIN_SHARD: '1',
        DPTRAIN_HOST: 'ps-1',
        DPTRAIN_PORT: '7001',
        DPTRAIN_CHECKPOINT_DIR: '/ck',
      }),
      dryRun(['worker'], { DPTRAIN_COORDINATOR: 'ws://coordinator:7000/', DPTRAIN_BACKEND: 'wasm', DPTRAIN_NAME: 'w-1', DPTRAIN_WORKER_ID: '1' }),
    ]);
    expect(ps).toEqual({
      command: 'ps',
      options: { coordinator: 'ws://coordinator:7000/', shard: 1, host: 'ps-1', port: 7001, name: 'ps-1', resume: true, checkpointDir: '/ck' },
    });
    expect(worker).toEqual({ command: 'worker', options: { coordinator: 'ws://coordinator:7000/', name: 'w-1', backend: 'wasm', workerId: 1 } });
  });

  it('reads no job key from reserved or unknown DPTRAIN_ variables', async () => {
    const noisy = await dryRun(['train'], {
      DPTRAIN_TOKEN: 'dry-run-test-token',
      DPTRAIN_DATA: '/nowhere',
      DPTRAIN_OFFLINE: '1',
      DPTRAIN_LOG_LEVEL: 'warn',
      DPTRAIN_DEBUG: '1',
      DPTRAIN_FUTURE_KEY: 'x',
    });
    expect(noisy.config).toEqual({ ...parseConfig({}), out: expect.stringMatching(/^runs\/\d{8}-\d{6}-mlp$/) });
  });

  it('refuses a bad value with exit 1 and a message naming the flag or the variable that gave it', async () => {
    const ws = { DPTRAIN_COORDINATOR: 'ws://coordinator:7000/' };
    const cases: [string[], Record<string, string>, string][] = [
      [['coordinator'], { DPTRAIN_PORT: '70000' }, 'DPTRAIN_PORT=70000 is not a port number'],
      [['ps'], { ...ws, DPTRAIN_SHARD: '' }, 'DPTRAIN_SHARD= is not a shard index'],
      [['worker'], { DPTRAIN_COORDINATOR: 'http://coordinator:7000/' }, 'DPTRAIN_COORDINATOR=http://coordinator:7000/ is not a WebSocket URL'],
      [['worker'], { ...ws, DPTRAIN_WORKER_ID: '-1' }, 'DPTRAIN_WORKER_ID=-1 is not a worker id'],
      [['train'], { DPTRAIN_LR: 'fast' }, 'env DPTRAIN_LR = "fast": expected a number'],
      [['local'], { DPTRAIN_PS_SHARDS: '2', DPTRAIN_CLIP_NORM: '1' }, '[E_CONFIG_VALUE] clipNorm 1 needs the whole gradient at once'],
    ];
    const results = await Promise.all(cases.map(([args, env]) => refusal(args, env)));
    expect(results.map((r, i) => ({ exitCode: r?.exitCode, says: r?.stderr.includes(cases[i]![2]) }))).toEqual(cases.map(() => ({ exitCode: 1, says: true })));
  });
});
