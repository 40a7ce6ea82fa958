/** A lease still running, as the backup policy sees it. */
export interface RunningLease {
  readonly id: number;
  /** performance.now() when it was leased. */
  readonly startedAt: number;
}

export type BackupDecision =
  | { readonly kind: 'backup'; readonly leaseId: number }
  | { readonly kind: 'wait'; readonly atMs: number }
  | { readonly kind: 'none' };

/**
 * When to lease a backup copy of a straggling lease (sync mode). A lease is straggling once it has
 * run `factor` times the median duration of the leases of the same step that already finished;
 * with none finished yet, nothing is known and no backup is leased. Below `minMs` of running no
 * lease is a straggler: short leases vary by more than any sensible factor. Because a micro-batch's
 * gradient is a function of the step's parameters and its data alone, the backup computes the same
 * bits, the shards keep the first push and the result does not change.
 *
 * @param running leases of the step still running that have no backup yet, oldest first
 * @param finishedMs durations of the step's finished leases
 */
export function decideBackup(running: readonly RunningLease[], finishedMs: readonly number[], factor: number, now: number, minMs = 0): BackupDecision {
  if (factor <= 0 || running.length === 0 || finishedMs.length === 0) return { kind: 'none' };
  const threshold = Math.max(minMs, factor * median(finishedMs));
  const oldest = running.reduce((a, b) => (b.startedAt < a.startedAt ? b : a));
  const due = oldest.startedAt + threshold;
  return now >= due ? { kind: 'backup', leaseId: oldest.id } : { kind: 'wait', atMs: due };
}

/** The middle of `values`, the mean of the two middle ones for an even count. @throws RangeError for none */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
