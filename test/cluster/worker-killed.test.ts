import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { smallJob } from '../small-job.js';

const SMALL = smallJob(['--steps', '60', '--optimizer', 'adam']);

function stepsDone(out: string): number {
  const path = join(out, 'metrics.jsonl');
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"step"')).length;
}

describe('a worker killed mid-run', () => {
  it('has its micro-batches re-leased; training completes with the bits of the fault-free run', async () => {
    const reference = mkdtempSync(join(tmpdir(), 'ref-'));
    const out = mkdtempSync(join(tmpdir(), 'kill-'));
    expect((await runCli(['train', ...SMALL, '--out', reference])).code).toBe(0);
    const running = runCli(['local', ...SMALL, '--workers', '2', '--out', out]);
    // Poll the run folder (the outside view a fault injector has): kill once 5 steps are done.
    let killed: number | undefined;
    for (let i = 0; i < 600 && killed === undefined; i++) {
      await delay(50);
      if (!existsSync(join(out, 'cluster.json')) || stepsDone(out) < 5) continue;
      const cluster = JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8'));
      killed = cluster.processes.find((p: { name: string }) => p.name === 'worker-0').pid as number;
      process.kill(killed, 'SIGKILL');
    }
    expect(killed).toBeDefined();
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('worker-0');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.steps).toBe(60);
    expect(summary.faults.map((f: { kind: string }) => f.kind)).toEqual(['worker-disconnected']);
    expect(readFileSync(join(out, 'params.safetensors')).equals(readFileSync(join(reference, 'params.safetensors')))).toBe(true);
  });
});
