import type { ShardStatus } from '../common/run-folder.js';

/**
 * Tensor bytes a run moved between workers and shards, computed from the shards' counters (no
 * counter of wire bytes reaches summary.json): every pull answers with the shard's slice and every
 * push carries one, float32 each. Frame headers and the control messages are not included.
 */
export function tensorBytes(shards: readonly ShardStatus[]): number {
  let bytes = 0;
  for (const s of shards) bytes += s.length * 4 * (s.pulls + s.accepted + s.duplicate + s.stale + s.rejected);
  return bytes;
}

/** The shards' staleness histograms added up (index = version lag); null in sync mode. */
export function stalenessHistogram(shards: readonly ShardStatus[]): number[] | null {
  const histograms = shards.map((s) => s.stalenessHistogram).filter((h): h is readonly number[] => h !== undefined && h.length > 0);
  if (histograms.length === 0) return null;
  const total = new Array<number>(Math.max(...histograms.map((h) => h.length))).fill(0);
  for (const h of histograms) h.forEach((n, lag) => (total[lag] += n));
  return total;
}
