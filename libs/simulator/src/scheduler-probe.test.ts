import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tasksetRuns = process.platform === 'linux' && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
const probe = fileURLToPath(new URL('./scheduler-probe.ts', import.meta.url));

describe.skipIf(!tasksetRuns)('probeScheduler (needs taskset, Linux)', () => {
  it('measures the turns two busy threads on one CPU take', () => {
    // A process of its own, pinned to one CPU from the start as the calibration pins itself.
    const script = `import { probeScheduler } from ${JSON.stringify(probe)}; console.log(JSON.stringify(await probeScheduler(1000) ?? null));`;
    const child = spawnSync('taskset', ['--cpu-list', '0', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const measured = JSON.parse(child.stdout.trim()) as { sliceMs: number } | null;
    expect(measured).not.toBeNull();
    // A turn is at least the half millisecond the probe counts from, and at most a few ticks of the slowest kernel clock (100 Hz).
    expect(measured!.sliceMs).toBeGreaterThanOrEqual(0.5);
    expect(measured!.sliceMs).toBeLessThan(50);
  });
});
