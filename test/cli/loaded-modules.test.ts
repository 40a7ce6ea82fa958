import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What each command loads before it acts: a dry run of a role must not pull in TensorFlow.js, the
// simulator or vega-lite (they would cost every process start and put the lab into the product).

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
const TRACE = fileURLToPath(new URL('./fixtures/trace-imports.mjs', import.meta.url));

function importsOf(args: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', TRACE, BIN, ...args], { env: { ...process.env, DPTRAIN_TOKEN: 'loaded-modules-test-token' } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`dptrain ${args.join(' ')} failed: ${stderr.slice(-500)}`));
      else resolve(stderr.split('\n').filter((l) => l.startsWith('imported ')).map((l) => l.slice('imported '.length)));
    });
  });
}

const heavy = (urls: readonly string[]): string[] => urls.filter((u) => /@tensorflow|vega|\/libs\/simulator\/|\/experiment\/|\/chaos\/|fast-check/.test(u));

describe('modules each command loads', () => {
  it('loads neither TensorFlow.js nor the lab for --help, --version, or a dry run of a role', async () => {
    const runs = await Promise.all([
      importsOf(['--help']),
      importsOf(['--version']),
      importsOf(['--dry-run', 'worker', '--coordinator', 'ws://127.0.0.1:7000/']),
      importsOf(['--dry-run', 'ps', '--coordinator', 'ws://127.0.0.1:7000/']),
      importsOf(['--dry-run', 'train']),
      importsOf(['--dry-run', 'local']),
    ]);
    // The trace sees the program's own modules (the check has something to look at).
    expect(runs.every((urls) => urls.some((u) => u.endsWith('/apps/cli/src/main.ts')))).toBe(true);
    expect(runs.map(heavy)).toEqual(runs.map(() => []));
  });

  it('loads the experiments for dptrain experiment only', async () => {
    const urls = await importsOf(['experiment', '--help']);
    expect(urls.some((u) => u.includes('/experiment/register.ts'))).toBe(true);
  });
});
