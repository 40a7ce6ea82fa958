import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// The scenarios that apply to the co-located layout (`dptrain chaos --colocate`: local --colocate,
// each worker serving one shard), beyond its own restart scenario (21, in recovery.test.ts). A
// killed co-located worker takes its shard along and is restarted, as a shard is.
describe('faults against the co-located layout', () => {
  it('1 worker-0 SIGKILL after step 5: its worker and shard lost and restarted, params bit-identical', async () => {
    const run = await runScenario('worker-sigkill', 'colocated');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toEqual(expect.arrayContaining(['worker-disconnected', 'shard-lost', 'shard-restarted']));
    expect(run.bitIdentical).toBe(true);
  });

  it('4 coordinator SIGKILL after step 30, restarted: the co-located workers and their shards reconnect, bit-identical', async () => {
    const run = await runScenario('coordinator-restart', 'colocated');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toContain('coordinator-restarted');
    expect(run.bitIdentical).toBe(true);
  });

  it('10 NaN gradients from worker-0: refused by the shards, re-leased, the worker quarantined, bit-identical', async () => {
    const run = await runScenario('nan-quarantine', 'colocated');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.bitIdentical).toBe(true);
  });

  it('lists the scenarios that need separate parameter-server processes as skipped', async () => {
    const run = await runScenario('ps-restart', 'colocated');
    expect(run.row.result).toBe('skipped: the separate layout only');
  });
});
