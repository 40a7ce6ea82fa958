import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// Workers that misbehave on purpose (DPTRAIN_FAULT with only=worker-0): slow, or poisoned.
describe('stragglers and poisoned gradients', () => {
  it('8 worker-0 40× slower: backup leases finish its micro-batches, counted apart from the faults, bit-identical', async () => {
    const run = await runScenario('straggler');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.backupLeases).toBeGreaterThan(0);
    // Healthy backups are no faults; the slowed worker-0 is worker id 0, and its leases were backed up.
    expect(run.faults).not.toContain('backup-leased');
    const slow = run.workers.find((w) => w.name === 'worker-0');
    expect(slow?.workerId).toBe(0);
    expect(slow?.leasesBackedUp).toBeGreaterThan(0);
    expect(run.bitIdentical).toBe(true);
  });

  it('10 worker-0 pushes NaN from step 10: refused by the shard, re-leased, worker quarantined, bit-identical', async () => {
    const run = await runScenario('nan-quarantine');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.faults).toContain('worker-quarantined');
    expect(run.bitIdentical).toBe(true);
  });
});
