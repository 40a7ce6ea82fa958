import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// Each scenario runs `dptrain chaos` (a fault-free `dptrain train` reference, then `dptrain local`
// with 2 workers on a 400-step synthetic MLP job) and this test re-checks its run folder itself.
describe('process faults against dptrain local', () => {
  it('1 worker SIGKILL mid-run: re-leased, params bit-identical to dptrain train', async () => {
    const run = await runScenario('worker-sigkill');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.code).toBe(0);
    expect(run.faults).toEqual(['worker-disconnected']);
    expect(run.bitIdentical).toBe(true);
  });

  it('2 worker SIGSTOP past the 6 s worker timeout (--worker-timeout-ms), then SIGCONT: timed out, re-leased, bit-identical', async () => {
    const run = await runScenario('worker-sigstop');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toContain('worker-timeout');
    expect(run.bitIdentical).toBe(true);
  });

  it('12 every worker killed: dptrain local exits non-zero within 15 s naming the reason', async () => {
    const run = await runScenario('all-workers-killed');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.row.detail).toMatch(/^exit [1-9]\d* after \d+\.\d s: .*no worker is left/);
  });
});
