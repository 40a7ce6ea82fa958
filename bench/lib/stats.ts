/**
 * Summary statistics for benchmark timings. Medians, not means: on a shared machine a single
 * window disturbed by another process should move the reported number as little as possible.
 */

/**
 * The median of `values` (the mean of the two middle values for an even count).
 * @throws {RangeError} for an empty list or a value that is not finite.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list; measure at least one value');
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`median: value ${bad} is not finite; drop failed measurements before summarising`);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface WindowRates {
  /** Median over the windows of items per second. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Items per second over all timed steps together. */
  readonly overall: number;
  /** Rate of each window, in order. */
  readonly rates: readonly number[];
}

/**
 * Throughput from step timestamps. `marksMs[0]` is the moment the first timed step started and
 * `marksMs[i]` the moment step i ended (milliseconds, any origin), so there are
 * `marksMs.length − 1` timed steps of `itemsPerStep` items each. The steps are cut into `windows`
 * consecutive windows of ⌊steps / windows⌋ steps (the remainder joins the last window); each
 * window's rate is its items over its duration.
 *
 * @default windows 5 (capped at the number of steps)
 * @throws {RangeError} fewer than one timed step, timestamps that go backwards, or bad counts.
 */
export function windowRates(marksMs: readonly number[], itemsPerStep: number, windows = 5): WindowRates {
  const steps = marksMs.length - 1;
  if (steps < 1) throw new RangeError(`windowRates needs at least 2 timestamps (start and one step end), got ${marksMs.length}; time more steps`);
  if (!(Number.isInteger(itemsPerStep) && itemsPerStep > 0)) throw new RangeError(`itemsPerStep must be a positive integer, got ${itemsPerStep}`);
  if (!(Number.isInteger(windows) && windows > 0)) throw new RangeError(`windows must be a positive integer, got ${windows}`);
  for (let i = 1; i < marksMs.length; i++) {
    if (!(marksMs[i] > marksMs[i - 1])) {
      throw new RangeError(`timestamp ${i} (${marksMs[i]} ms) is not after timestamp ${i - 1} (${marksMs[i - 1]} ms); record a monotonic clock (performance.now, time.perf_counter)`);
    }
  }
  const count = Math.min(windows, steps);
  const per = Math.floor(steps / count);
  const rates: number[] = [];
  for (let w = 0; w < count; w++) {
    const from = w * per;
    const to = w === count - 1 ? steps : from + per;
    rates.push(((to - from) * itemsPerStep * 1000) / (marksMs[to] - marksMs[from]));
  }
  return {
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    overall: (steps * itemsPerStep * 1000) / (marksMs[steps] - marksMs[0]),
    rates,
  };
}
