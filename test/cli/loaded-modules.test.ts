import { describe, expect, it } from 'vitest';
import { heavy, heavyPackages, runTraced } from './traced-cli.js';

// What each command loads before it acts: a dry run of a role must not pull in TensorFlow.js, the
// simulator or vega-lite (they would cost every process start and put the lab into the product).
// From the sources (DPTRAIN_BUNDLE=0) every module of ours is a file of its own; in the bundle
// they sit in chunks, and what can be seen there is which npm packages load.

const SOURCES = { DPTRAIN_BUNDLE: '0' };

async function importsOf(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const run = await runTraced(args, { DPTRAIN_TOKEN: 'loaded-modules-test-token', ...env });
  if (run.code !== 0) throw new Error(`dptrain ${args.join(' ')} failed: ${run.stderr.slice(-500)}`);
  return run.imports;
}

const ACTIONLESS = [
  ['--help'],
  ['--version'],
  ['--dry-run', 'worker', '--coordinator', 'ws://127.0.0.1:7000/'],
  ['--dry-run', 'ps', '--coordinator', 'ws://127.0.0.1:7000/'],
  ['--dry-run', 'train'],
  ['--dry-run', 'local'],
];

describe('modules each command loads', () => {
  it('loads neither TensorFlow.js nor the lab for --help, --version, or a dry run of a role (sources)', async () => {
    const runs = await Promise.all(ACTIONLESS.map((args) => importsOf(args, SOURCES)));
    // The trace sees the program's own modules (the check has something to look at).
    expect(runs.every((urls) => urls.some((u) => u.endsWith('/apps/cli/src/main.ts')))).toBe(true);
    expect(runs.map(heavy)).toEqual(runs.map(() => []));
  });

  it('loads none of those packages from the bundle either', async () => {
    const runs = await Promise.all(ACTIONLESS.map((args) => importsOf(args)));
    expect(runs.every((urls) => urls.some((u) => /\/apps\/cli\/dist\/[^/]+\/main\.mjs$/.test(u)))).toBe(true);
    expect(runs.map(heavyPackages)).toEqual(runs.map(() => []));
  });

  it('loads the experiments for dptrain experiment only', async () => {
    const urls = await importsOf(['experiment', '--help'], SOURCES);
    expect(urls.some((u) => u.includes('/experiment/register.ts'))).toBe(true);
  });
});
