import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { fanOut } from '@dptrain/log';
import { spanMetrics } from './span-metrics.js';
import { families, samples } from './test-support.js';

/** performance.now() reads `clock.ms`: spans last exactly as long as a test says. */
const clock = { ms: 0 };
afterEach(() => vi.restoreAllMocks());
function fakeClock(): void {
  clock.ms = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => clock.ms);
}

describe('spanMetrics', () => {
  it("registers one histogram per span of the role, named by the Prometheus conventions, and none of other roles'", async () => {
    const byRole = async (role: 'coordinator' | 'shard' | 'worker'): Promise<string[]> => {
      const registry = new Registry();
      spanMetrics(registry, role);
      return [...(await families(registry.metrics()))].map(([name, type]) => `${name} ${type}`).sort();
    };
    expect(await byRole('worker')).toEqual([
      'dptrain_worker_compute_seconds histogram',
      'dptrain_worker_lease_seconds histogram',
      'dptrain_worker_pull_seconds histogram',
      'dptrain_worker_push_seconds histogram',
    ]);
    expect(await byRole('shard')).toEqual([
      'dptrain_shard_checkpoint_seconds histogram',
      'dptrain_shard_fold_seconds histogram',
      'dptrain_shard_reply_seconds histogram',
      'dptrain_shard_update_seconds histogram',
      'dptrain_shard_wal_append_seconds histogram',
    ]);
    expect(await byRole('coordinator')).toEqual([
      'dptrain_coordinator_applied_reports_total counter',
      'dptrain_coordinator_leases_issued_total counter',
      'dptrain_coordinator_step_seconds histogram',
    ]);
  });

  it("observes each span's duration in seconds into its bucket, however many sinks see it", async () => {
    fakeClock();
    const registry = new Registry();
    const other = { begun: 0 };
    const spans = fanOut(spanMetrics(registry, 'worker'), { begin: () => (other.begun++, () => undefined), instant: () => undefined });
    const compute = spans.begin('compute', { step: 0, microBatchId: 1 });
    const lease = spans.begin('lease', { step: 0 });
    clock.ms += 3; // 3 ms
    compute();
    clock.ms += 1_997; // the lease: 2 s
    lease({ accepted: 4 });
    // A shard's span in a worker's process is not the worker's: nothing to observe.
    spans.begin('fold')();
    const s = await samples(registry.metrics());
    expect(s.get('dptrain_worker_compute_seconds_count')).toBe(1);
    expect(s.get('dptrain_worker_compute_seconds_sum')).toBeCloseTo(0.003, 9);
    expect(s.get('dptrain_worker_compute_seconds_bucket{le="0.0025"}')).toBe(0);
    expect(s.get('dptrain_worker_compute_seconds_bucket{le="0.005"}')).toBe(1);
    expect(s.get('dptrain_worker_lease_seconds_bucket{le="1"}')).toBe(0);
    expect(s.get('dptrain_worker_lease_seconds_bucket{le="2.5"}')).toBe(1);
    expect(s.get('dptrain_worker_lease_seconds_sum')).toBeCloseTo(2, 9);
    expect(s.get('dptrain_worker_pull_seconds_count')).toBe(0);
    expect(other.begun).toBe(3);
  });

  it("counts the coordinator's lease and applied-report instants, the latter by shard", async () => {
    const registry = new Registry();
    const spans = spanMetrics(registry, 'coordinator');
    for (let i = 0; i < 5; i++) spans.instant('leaseIssued', { step: 0, leaseId: i, workerId: i % 2, microBatches: 2 });
    spans.instant('stepApplied', { step: 0, shard: 0, version: 1 });
    spans.instant('stepApplied', { step: 0, shard: 1, version: 1 });
    spans.instant('stepApplied', { step: 1, shard: 1, version: 2 });
    spans.instant('fault', { kind: 'worker-timeout', workerId: 1, step: 1 });
    const s = await samples(registry.metrics());
    expect(s.get('dptrain_coordinator_leases_issued_total')).toBe(5);
    expect(s.get('dptrain_coordinator_applied_reports_total{shard="0"}')).toBe(1);
    expect(s.get('dptrain_coordinator_applied_reports_total{shard="1"}')).toBe(2);
    expect([...s.keys()].filter((k) => k.includes('fault'))).toEqual([]);
  });
});
