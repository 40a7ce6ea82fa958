import type { ShardStatus } from '../common/run-folder.js';

/** The shards' staleness histograms added up (index = version lag); null in sync mode. */
export function stalenessHistogram(shards: readonly ShardStatus[]): number[] | null {
  const histograms = shards.map((s) => s.stalenessHistogram).filter((h): h is readonly number[] => h !== undefined && h.length > 0);
  if (histograms.length === 0) return null;
  const total = new Array<number>(Math.max(...histograms.map((h) => h.length))).fill(0);
  for (const h of histograms) h.forEach((n, lag) => (total[lag] += n));
  return total;
}
