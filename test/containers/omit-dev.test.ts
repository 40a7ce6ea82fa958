import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildContext, REPO } from './build-context.js';
import { ROLES } from './role-env.js';

// The image installs with `npm ci --omit=dev` (docker/Dockerfile, stage deps): production code that
// reaches a test helper or a dev dependency dies there with ERR_MODULE_NOT_FOUND. This does what the
// image does, without a Docker engine: the build context copied out, installed without dev
// dependencies (from npm's cache when it has them), and every role's start-up checks run.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'omit-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, DPTRAIN_TOKEN: 'omit-dev-test-token', DPTRAIN_COORDINATOR: 'ws://127.0.0.1:7000/' };

describe('dptrain installed without dev dependencies', () => {
  it('runs every role and train as far as the dry run goes', async () => {
    for (const file of buildContext().files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(REPO, file), join(dir, file));
    }
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      env: { ...process.env, npm_config_yes: 'true' },
      maxBuffer: 64 << 20,
    });
    // A dev dependency must really be absent, or the check below proves nothing.
    await expect(run(process.execPath, ['-e', "import('fast-check')"], { cwd: dir })).rejects.toThrow(/ERR_MODULE_NOT_FOUND|Cannot find package/);

    const commands = ['train', 'local', ...ROLES];
    const results = await Promise.all(
      commands.map((command) =>
        run(process.execPath, ['apps/cli/bin/dptrain.js', '--dry-run', command], { cwd: dir, env: ENV }).then(
          ({ stdout }) => (JSON.parse(stdout) as { command: string }).command,
          (error: { stderr?: string }) => `failed: ${error.stderr ?? String(error)}`,
        ),
      ),
    );
    expect(results).toEqual(commands);
  });
});
