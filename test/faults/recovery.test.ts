import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// Each scenario runs `dptrain chaos` (a fault-free `dptrain train` reference, then `dptrain local`
// with 2 workers on a 400-step synthetic MLP job whose shards checkpoint every 20 steps); local
// restarts a killed coordinator or shard with --resume on its port.
describe('recovery of a killed parameter server or coordinator', () => {
  it('3 ps-0 SIGKILL after step 30, restarted from checkpoint + log: each (step, micro-batch) applied once, bit-identical', async () => {
    const run = await runScenario('ps-restart');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toContain('shard-lost');
    expect(run.faults).toContain('shard-restarted');
    expect(run.row.detail).toMatch(/applied 1600 of 1600 \(step, micro-batch\) pairs, double 0/);
    expect(run.bitIdentical).toBe(true);
  });

  it('4 coordinator SIGKILL after step 30, restarted with --resume: every step closed once, bit-identical', async () => {
    const run = await runScenario('coordinator-restart');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toContain('coordinator-restarted');
    expect(run.row.detail).toContain('metrics steps 1..400 once each true');
    expect(run.bitIdentical).toBe(true);
  });

  it('9 ps-0 SIGKILL inside its step-40 checkpoint write: the step-20 checkpoint loads with its checksum, bit-identical', async () => {
    const run = await runScenario('checkpoint-crash');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.row.detail).toContain('checksum verified true');
    expect(run.bitIdentical).toBe(true);
  });

  it('21 co-located worker-0 (serving shard 0) SIGKILL after step 30, restarted with --resume: worker and shard back, applied once, bit-identical', async () => {
    const run = await runScenario('colocated-worker-restart', 'colocated');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toEqual(expect.arrayContaining(['worker-disconnected', 'shard-lost', 'shard-restarted']));
    expect(run.row.detail).toMatch(/applied 1600\/1600 of 1600 \(step, micro-batch\) pairs, double 0\/0/);
    expect(run.bitIdentical).toBe(true);
  });
});
