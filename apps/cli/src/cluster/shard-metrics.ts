import { Registry, type Counter } from 'prom-client';
import type { Spans } from '@dptrain/log';
import { CountsHistogram } from './counts-histogram.js';
import { scrapedCounter, scrapedGauge } from './scraped-metrics.js';
import { spanMetrics } from './span-metrics.js';

/** The parts of a shard's status report (ParameterServer.status(), as GET /status shows it) the metrics read. */
export interface ShardStatusView {
  readonly version: number;
  readonly accepted: number;
  readonly duplicate: number;
  readonly stale: number;
  readonly rejected: number;
  readonly poisoned: number;
  readonly split: number;
  readonly pulls: number;
  readonly unticketed: number;
  readonly appliedMicroBatches: number;
  readonly doubleApplied: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly applyMs: number;
  readonly stalenessHistogram: readonly number[];
}

const PUSH_RESULTS = ['accepted', 'duplicate', 'stale', 'rejected', 'poisoned', 'split'] as const;

/**
 * A parameter-server shard's own metrics, read from its status report at each scrape (undefined
 * before the shard exists: nothing but the span histograms then), with the histograms of its
 * spans. Labels carry no shard index: the scrape target is the shard (the coordinator's
 * `dptrain_shard_…{shard}` series are the same counts, as the coordinator last heard them).
 */
export function shardMetrics(status: () => ShardStatusView | undefined): { registry: Registry; spans: Spans } {
  const registry = new Registry();
  const counter = (name: string, help: string, labelNames: string[], read: (c: Counter, s: ShardStatusView) => void): void =>
    scrapedCounter(registry, name, help, labelNames, (c) => {
      const s = status();
      if (s) read(c, s);
    });
  scrapedGauge(registry, 'dptrain_shard_version', "The shard's parameter version (updates applied).", [], (g) => {
    const s = status();
    if (s) g.set(s.version);
  });
  counter(
    'dptrain_shard_pushes_total',
    'Gradient pushes judged, by result (accepted and duplicate count micro-batches, the others messages; split: runs to push one by one).',
    ['result'],
    (c, s) => PUSH_RESULTS.forEach((result) => c.inc({ result }, s[result])),
  );
  counter('dptrain_shard_push_refusals_total', 'Pushes refused before they could touch the shard, by reason.', ['reason'], (c, s) =>
    c.inc({ reason: 'unticketed' }, s.unticketed),
  );
  counter('dptrain_shard_pulls_total', 'Pulls of parameters received.', [], (c, s) => c.inc(s.pulls));
  counter('dptrain_shard_applied_micro_batches_total', "Micro-batches whose gradients the shard's updates applied.", [], (c, s) =>
    c.inc(s.appliedMicroBatches),
  );
  counter('dptrain_shard_double_applied_total', 'Updates refused because a micro-batch of theirs was applied already (an invariant: stays 0).', [], (c, s) =>
    c.inc(s.doubleApplied),
  );
  counter('dptrain_shard_received_bytes_total', 'Bytes received over all connections (frames with their headers).', [], (c, s) => c.inc(s.bytesIn));
  counter('dptrain_shard_sent_bytes_total', 'Bytes sent over all connections (frames with their headers).', [], (c, s) => c.inc(s.bytesOut));
  counter('dptrain_shard_apply_seconds_total', 'Time spent applying updates (log record, previous point, optimizer, batch-norm statistics).', [], (c, s) =>
    c.inc(s.applyMs / 1000),
  );
  new CountsHistogram(
    registry,
    'dptrain_shard_staleness_versions',
    'Async: gradients applied by their version lag (the shard version minus the version they were computed on); sync: none.',
    () => status()?.stalenessHistogram ?? [],
  );
  return { registry, spans: spanMetrics(registry, 'shard') };
}
