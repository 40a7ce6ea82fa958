import { Registry } from 'prom-client';
import type { WorkerProgress } from '@dptrain/cluster';
import type { Spans } from '@dptrain/log';
import { scrapedCounter } from './scraped-metrics.js';
import { spanMetrics } from './span-metrics.js';

/**
 * A worker's own metrics, read from what it did so far at each scrape, with the histograms of its
 * spans. `dptrain_worker_micro_batches_total` counts the micro-batches it reported done, the
 * coordinator's `dptrain_worker_micro_batches_total{worker}` of it; the compute histogram's count
 * is the micro-batches it computed, recomputations included.
 */
export function workerMetrics(progress: () => WorkerProgress): { registry: Registry; spans: Spans } {
  const registry = new Registry();
  scrapedCounter(registry, 'dptrain_worker_leases_total', 'Leases finished: done, given up, revoked or overtaken.', [], (c) => c.inc(progress().leases));
  scrapedCounter(
    registry,
    'dptrain_worker_micro_batches_total',
    'Micro-batches computed, pushed, acknowledged and reported done to the coordinator.',
    [],
    (c) => c.inc(progress().microBatches),
  );
  scrapedCounter(registry, 'dptrain_worker_reconnects_total', 'Lost coordinator or shard connections opened again.', [], (c) => c.inc(progress().reconnects));
  return { registry, spans: spanMetrics(registry, 'worker') };
}
