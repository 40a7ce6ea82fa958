import { describe, expect, it } from 'vitest';
import { shardMetrics, type ShardStatusView } from './shard-metrics.js';
import { families, samples } from './test-support.js';

function status(version: number, stalenessHistogram: number[] = []): ShardStatusView {
  return {
    version,
    accepted: 4 * version,
    duplicate: 2,
    stale: 1,
    rejected: 0,
    poisoned: 3,
    split: 1,
    pulls: 5 * version,
    unticketed: 7,
    appliedMicroBatches: 4 * version,
    doubleApplied: 0,
    bytesIn: 10_000,
    bytesOut: 20_000,
    applyMs: 250,
    stalenessHistogram,
  };
}

describe('shardMetrics', () => {
  it("exposes the shard's status report read at each scrape: pushes by result, refusals by reason, bytes, apply time", async () => {
    let now: ShardStatusView | undefined;
    const { registry } = shardMetrics(() => now);
    // Before the shard exists (its server is not up yet) there is nothing to count.
    const before = await samples(registry.metrics());
    expect(before.get('dptrain_shard_version')).toBe(0);
    expect(before.has('dptrain_shard_pushes_total{result="accepted"}')).toBe(false);
    expect(before.get('dptrain_shard_staleness_versions_count')).toBe(0);
    now = status(10);
    const s = await samples(registry.metrics());
    expect(s.get('dptrain_shard_version')).toBe(10);
    expect(s.get('dptrain_shard_pushes_total{result="accepted"}')).toBe(40);
    expect(s.get('dptrain_shard_pushes_total{result="poisoned"}')).toBe(3);
    expect(s.get('dptrain_shard_pushes_total{result="split"}')).toBe(1);
    expect(s.get('dptrain_shard_push_refusals_total{reason="unticketed"}')).toBe(7);
    expect(s.get('dptrain_shard_pulls_total')).toBe(50);
    expect(s.get('dptrain_shard_received_bytes_total')).toBe(10_000);
    expect(s.get('dptrain_shard_sent_bytes_total')).toBe(20_000);
    expect(s.get('dptrain_shard_apply_seconds_total')).toBe(0.25);
    now = status(30);
    const later = await samples(registry.metrics());
    // The report's totals again, not added to the last scrape's.
    expect([later.get('dptrain_shard_pushes_total{result="accepted"}'), later.get('dptrain_shard_pushes_total{result="duplicate"}')]).toEqual([120, 2]);
  });

  it('turns the staleness counts into a cumulative histogram with one bucket per version lag', async () => {
    const { registry } = shardMetrics(() => status(50, [5, 0, 3, 2]));
    const s = await samples(registry.metrics());
    expect([0, 1, 2, 3].map((lag) => s.get(`dptrain_shard_staleness_versions_bucket{le="${lag}"}`))).toEqual([5, 5, 8, 10]);
    expect(s.get('dptrain_shard_staleness_versions_bucket{le="+Inf"}')).toBe(10);
    expect(s.get('dptrain_shard_staleness_versions_count')).toBe(10);
    expect(s.get('dptrain_shard_staleness_versions_sum')).toBe(0 * 5 + 2 * 3 + 3 * 2);
    expect((await families(registry.metrics())).get('dptrain_shard_staleness_versions')).toBe('histogram');
  });

  it("holds the shard's span histograms in the same registry", async () => {
    const { registry, spans } = shardMetrics(() => status(1));
    spans.begin('walAppend', { version: 1 })();
    spans.begin('checkpoint', { step: 1, version: 1 })();
    const s = await samples(registry.metrics());
    expect(s.get('dptrain_shard_wal_append_seconds_count')).toBe(1);
    expect(s.get('dptrain_shard_checkpoint_seconds_count')).toBe(1);
    expect(s.get('dptrain_shard_fold_seconds_count')).toBe(0);
  });
});
