import { describe, expect, it } from 'vitest';
import type { WorkerProgress } from '@dptrain/cluster';
import { workerMetrics } from './worker-metrics.js';
import { families, samples } from './test-support.js';

describe('workerMetrics', () => {
  it("exposes what the worker did so far, read at each scrape, next to its spans' histograms", async () => {
    let now: WorkerProgress = { leases: 3, microBatches: 10, reconnects: 0 };
    const { registry, spans } = workerMetrics(() => now);
    spans.begin('compute', { step: 0, microBatchId: 0 })();
    spans.begin('compute', { step: 0, microBatchId: 1 })();
    const s = await samples(registry.metrics());
    expect([s.get('dptrain_worker_leases_total'), s.get('dptrain_worker_micro_batches_total'), s.get('dptrain_worker_reconnects_total')]).toEqual([3, 10, 0]);
    expect(s.get('dptrain_worker_compute_seconds_count')).toBe(2);
    now = { leases: 5, microBatches: 18, reconnects: 1 };
    const later = await samples(registry.metrics());
    expect([later.get('dptrain_worker_leases_total'), later.get('dptrain_worker_micro_batches_total'), later.get('dptrain_worker_reconnects_total')]).toEqual([
      5, 18, 1,
    ]);
    const types = await families(registry.metrics());
    expect([...types].filter(([, type]) => type === 'counter').map(([name]) => name)).toEqual([
      'dptrain_worker_leases_total',
      'dptrain_worker_micro_batches_total',
      'dptrain_worker_reconnects_total',
    ]);
  });
});
