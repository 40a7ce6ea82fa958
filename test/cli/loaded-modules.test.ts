import { describe, expect, it } from 'vitest';
import { heavy, runTraced } from './traced-cli.js';

// What each command loads before it acts: a dry run of a role must not pull in TensorFlow.js, the
// simulator or vega-lite (they would cost every process start and put the lab into the product).

async function importsOf(args: readonly string[]): Promise<string[]> {
  const run = await runTraced(args, { DPTRAIN_TOKEN: 'loaded-modules-test-token' });
  if (run.code !== 0) throw new Error(`dptrain ${args.join(' ')} failed: ${run.stderr.slice(-500)}`);
  return run.imports;
}

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
