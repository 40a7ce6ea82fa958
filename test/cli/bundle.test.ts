import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// apps/cli/bin/bundle.js: the command runs from a bundle built from the sources, rebuilt when one
// of them changes, and gives what the sources give.

const DIST = fileURLToPath(new URL('../../apps/cli/dist/', import.meta.url));
const POINTER = `${DIST}current.json`;
const env = { DPTRAIN_TOKEN: 'bundle-test-token-000001' };

interface Pointer {
  readonly dir: string;
  readonly inputs: Record<string, [number, number]>;
}
const pointer = (): Pointer => JSON.parse(readFileSync(POINTER, 'utf8')) as Pointer;

describe('the command bundle', () => {
  it('is built from the command, the libraries and the gradient files of TensorFlow.js it imports by path', async () => {
    expect((await runCli(['--version'], env)).code).toBe(0);
    const inputs = Object.keys(pointer().inputs);
    expect(inputs).toContain('apps/cli/src/main.ts');
    expect(inputs).toContain('libs/model/src/tf-gradients.ts');
    // The manifests decide what a chunk holds (exports, sideEffects): a change to one rebuilds too.
    expect(inputs).toEqual(expect.arrayContaining(['libs/model/package.json', 'libs/cluster/package.json', 'apps/cli/bin/bundle.js']));
    expect(inputs.some((file) => file.startsWith('node_modules/@tensorflow/tfjs-core/dist/gradients/'))).toBe(true);
    // npm packages stay external: they load from node_modules, never copied into the bundle.
    expect(inputs.filter((file) => file.startsWith('node_modules/') && !file.includes('/tfjs-core/dist/'))).toEqual([]);
    expect(statSync(`${DIST}${pointer().dir}/main.mjs`).isFile()).toBe(true);
  });

  it('is rebuilt when a source it was built from changed since', async () => {
    expect((await runCli(['--version'], env)).code).toBe(0);
    const before = pointer();
    // As an edit would: the recorded size of one input no longer matches the file.
    const [size, mtimeMs] = before.inputs['libs/config/src/flags.ts']!;
    writeFileSync(POINTER, JSON.stringify({ ...before, inputs: { ...before.inputs, 'libs/config/src/flags.ts': [size + 1, mtimeMs] } }));
    expect((await runCli(['--version'], env)).code).toBe(0);
    const after = pointer();
    expect(after.dir).not.toBe(before.dir);
    expect(after.inputs['libs/config/src/flags.ts']).toEqual([size, mtimeMs]);
  });

  it('resolves a job exactly as the sources do', async () => {
    const args = ['--dry-run', 'local', '--model', 'cnn', '--workers', '3', '--batch-size', '32', '--out', 'runs/bundle-test'];
    const bundled = await runCli(args, env);
    const sources = await runCli(args, { ...env, DPTRAIN_BUNDLE: '0' });
    expect(bundled.code).toBe(0);
    expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(sources.stdout));
  });
});
