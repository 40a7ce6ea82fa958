import { describe, expect, it } from 'vitest';
import { coordinatorMetrics, type StatusView } from './prometheus.js';

function status(step: number): StatusView {
  return {
    state: 'training',
    step,
    totalSteps: 100,
    stepsPerEpoch: 40,
    workers: [
      { workerId: 0, name: 'worker-0', state: 'busy', leases: step, microBatches: 2 * step, backupLeases: 1 },
      { workerId: 1, name: 'worker-1', state: 'dead', leases: 3, microBatches: 6, backupLeases: 0 },
    ],
    faults: [{ kind: 'worker-disconnected' }, { kind: 'worker-disconnected' }, { kind: 'shard-lost' }],
    shards: [
      { shard: 0, version: step, accepted: 4 * step, duplicate: 2, stale: 0, rejected: 0, poisoned: 1, bytesIn: 1000, bytesOut: 2000, applyMs: 1500 },
      null,
    ],
  };
}

/** `name{labels} value` lines of the exposition, as a map. */
async function samples(text: Promise<string>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await text).split('\n')) {
    const m = /^(dptrain_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('coordinatorMetrics', () => {
  it('exposes the status read at each scrape, counters as its running totals', async () => {
    let now = status(10);
    const registry = coordinatorMetrics(() => now);
    const first = await samples(registry.metrics());
    expect(first.get('dptrain_step')).toBe(10);
    expect(first.get('dptrain_epoch')).toBe(1);
    expect(first.get('dptrain_job_state{state="training"}')).toBe(1);
    expect(first.get('dptrain_workers{state="busy"}')).toBe(1);
    expect(first.get('dptrain_workers{state="dead"}')).toBe(1);
    expect(first.get('dptrain_worker_micro_batches_total{worker="worker-0"}')).toBe(20);
    expect(first.get('dptrain_faults_total{kind="worker-disconnected"}')).toBe(2);
    expect(first.get('dptrain_shard_pushes_total{shard="0",result="poisoned"}')).toBe(1);
    expect(first.get('dptrain_shard_apply_seconds_total{shard="0"}')).toBe(1.5);
    now = status(50);
    const second = await samples(registry.metrics());
    expect([second.get('dptrain_step'), second.get('dptrain_epoch'), second.get('dptrain_shard_pushes_total{shard="0",result="accepted"}')]).toEqual([
      50, 2, 200,
    ]);
    // A scrape reads the totals again rather than adding them to the last scrape's.
    expect(second.get('dptrain_faults_total{kind="worker-disconnected"}')).toBe(2);
  });
});
