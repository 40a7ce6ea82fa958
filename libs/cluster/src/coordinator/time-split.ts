/** Milliseconds a worker spent in each phase of its leases. */
export interface TimeSplit {
  /** Forward and backward passes. */
  computeMs: number;
  /** Waiting for parameters from the shards. */
  pullMs: number;
  /** Waiting for push acknowledgements after the last gradient was computed (pushes overlap compute). */
  pushMs: number;
  /** Idle between the end of one lease and the arrival of the next one. */
  waitMs: number;
}

export function emptySplit(): TimeSplit {
  return { computeMs: 0, pullMs: 0, pushMs: 0, waitMs: 0 };
}

export function addSplit(into: TimeSplit, add: Partial<TimeSplit>): void {
  into.computeMs += add.computeMs ?? 0;
  into.pullMs += add.pullMs ?? 0;
  into.pushMs += add.pushMs ?? 0;
  into.waitMs += add.waitMs ?? 0;
}

/**
 * The average worker's time per step: each phase summed over the workers that held leases,
 * divided by steps × those workers. With W workers splitting a step, compute + pull + push + wait
 * is about the step's wall time.
 */
export function perStep(splits: readonly TimeSplit[], steps: number): TimeSplit {
  const total = emptySplit();
  const active = splits.filter((s) => s.computeMs > 0);
  for (const s of active) addSplit(total, s);
  const n = Math.max(1, steps * active.length);
  return { computeMs: round(total.computeMs / n), pullMs: round(total.pullMs / n), pushMs: round(total.pushMs / n), waitMs: round(total.waitMs / n) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
