/**
 * Summary statistics for benchmark timings. Medians, not means: on a shared machine a single
 * round disturbed by another process should move the reported number as little as possible.
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

export interface RoundRates {
  /** Median over the rounds of items per second. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Items per second over all rounds together (their items over their summed durations). */
  readonly overall: number;
  /** Rate of each round, in order. */
  readonly rates: readonly number[];
}

/**
 * Throughput of timed rounds of steps. Each round is a list of timestamps in milliseconds (any
 * origin, one monotonic clock): `round[0]` when its first step started, `round[i]` when step i
 * ended, so a round of k + 1 timestamps times k steps of `itemsPerStep` items. A round's rate is
 * its items over its duration; the summary is the median over the rounds.
 * @throws {RangeError} no rounds, a round with no step, timestamps that go backwards, or a bad count.
 */
export function roundRates(rounds: readonly (readonly number[])[], itemsPerStep: number): RoundRates {
  if (rounds.length === 0) throw new RangeError('roundRates needs at least one timed round; time more rounds');
  if (!(Number.isInteger(itemsPerStep) && itemsPerStep > 0)) throw new RangeError(`itemsPerStep must be a positive integer, got ${itemsPerStep}`);
  let items = 0;
  let ms = 0;
  const rates = rounds.map((marks, r) => {
    if (marks.length < 2) throw new RangeError(`round ${r} has ${marks.length} timestamps; a round needs its start and at least one step end`);
    for (let i = 1; i < marks.length; i++) {
      if (!(marks[i] > marks[i - 1])) {
        throw new RangeError(
          `round ${r}: timestamp ${i} (${marks[i]} ms) is not after timestamp ${i - 1} (${marks[i - 1]} ms); record a monotonic clock (performance.now, time.perf_counter)`,
        );
      }
    }
    const roundItems = (marks.length - 1) * itemsPerStep;
    const roundMs = marks[marks.length - 1] - marks[0];
    items += roundItems;
    ms += roundMs;
    return (roundItems * 1000) / roundMs;
  });
  return { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), overall: (items * 1000) / ms, rates };
}
