import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@dptrain/safetensors';
import { describe, expect, it } from 'vitest';
import { expectClock, readMetrics } from '../cli/metrics-file.js';
import { runCli } from '../cli/run-cli.js';
import { smallJob } from '../small-job.js';

// 20 steps of an MLP 784-32-10 on generated data; batches of 32 in micro-batches of 8 (M = 4), so
// with 2 or 3 workers every step mixes micro-batches computed in different processes.
const SMALL = smallJob(['--steps', '20']);

/** Runs `dptrain <command> …args --out DIR` and returns the run folder's params.safetensors bytes. */
async function paramsOf(command: string, args: readonly string[]): Promise<Buffer> {
  const out = mkdtempSync(join(tmpdir(), `${command}-`));
  const result = await runCli([command, ...args, '--out', out]);
  expect(result.stderr.slice(-2000)).not.toContain('dptrain: [');
  expect(result.code).toBe(0);
  return readFileSync(join(out, 'params.safetensors'));
}

describe.each([
  ['adam', ['--optimizer', 'adam']],
  ['momentum', ['--optimizer', 'momentum', '--lr', '0.05', '--momentum', '0.9']],
  ['nesterov', ['--optimizer', 'nesterov', '--lr', '0.05', '--momentum', '0.9']],
])('synchronous determinism, %s', (name, optimizer) => {
  it('dptrain local gives the bits of dptrain train for any number of workers and shards', async () => {
    const reference = await paramsOf('train', [...SMALL, ...optimizer]);
    const layouts =
      name === 'adam'
        ? [
            ['--workers', '1'],
            ['--workers', '2'],
            ['--workers', '3', '--ps-shards', '2'],
            // Co-located: each worker serves one shard (its own through an in-memory connection).
            ['--workers', '1', '--colocate'],
            ['--workers', '3', '--colocate'],
          ]
        : [
            ['--workers', '2', '--ps-shards', '2'],
            ['--workers', '2', '--colocate'],
          ];
    for (const layout of layouts) {
      const bytes = await paramsOf('local', [...SMALL, ...optimizer, ...layout]);
      expect({ layout: layout.join(' '), identical: bytes.equals(reference) }).toEqual({ layout: layout.join(' '), identical: true });
    }
  });
});

describe('dptrain local run folder', () => {
  it('writes the contract files plus workers, faults, backup leases and cluster.json, worker-k as worker id k', async () => {
    const out = mkdtempSync(join(tmpdir(), 'local-'));
    const result = await runCli(['local', ...SMALL, '--optimizer', 'adam', '--workers', '2', '--out', out]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ backend: 'cpu', steps: 20, epochs: 1, faults: [], backupLeases: expect.any(Number) });
    // Every one of the 20 × 4 micro-batches was computed by some worker, each exactly once.
    expect(summary.workers.map((w: { microBatches: number }) => w.microBatches).reduce((a: number, b: number) => a + b, 0)).toBe(80);
    // A worker's name and id agree in summary.json and cluster.json, whichever registered first.
    expect(summary.workers.map((w: { workerId: number; name: string }) => `${w.workerId} ${w.name}`)).toEqual(['0 worker-0', '1 worker-1']);
    const cluster = JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8'));
    expect(cluster.processes.map((p: { role: string; name: string; workerId?: number }) => [p.role, p.name, p.workerId])).toEqual([
      ['coordinator', 'coordinator', undefined],
      ['ps', 'ps-0', undefined],
      ['worker', 'worker-0', 0],
      ['worker', 'worker-1', 1],
    ]);
    const lines = readMetrics(out);
    expect(lines.filter((l) => l.kind === 'step').map((l) => [l.step, l.epoch])).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, 1]));
    expect(lines.filter((l) => l.kind === 'eval').map((l) => [l.step, l.epoch])).toEqual([[20, 1]]);
    expectClock(lines);
    const params = await readSafetensors(join(out, 'params.safetensors'));
    expect([...params.tensors.keys()]).toEqual(['dense0/kernel', 'dense0/bias', 'dense1/kernel', 'dense1/bias']);
  });
});
