/**
 * How steady a core's speed is: timings of the same work grouped by the second they were taken
 * in, so that a slow stretch of a few seconds shows as slow seconds instead of a long tail.
 */
import { median } from '../lib/stats.js';

/** The kinds of work a core is timed on (measure-core.ts). */
export const KERNELS = ['gradient', 'stream', 'chain'] as const;
export type Kernel = (typeof KERNELS)[number];
/** Each kind of work's per-second medians on one core. */
export type CoreSeconds = Record<Kernel, { second: number; ms: number }[]>;

/** One timed call: when it started (seconds since the measurement began) and how long it took. */
export interface Timing {
  readonly atS: number;
  readonly ms: number;
}

/** The median time of the calls of each whole second, in order; seconds without a call are left out. */
export function perSecondMedians(timings: readonly Timing[]): { second: number; ms: number }[] {
  const bySecond = new Map<number, number[]>();
  for (const t of timings) {
    const second = Math.floor(t.atS);
    const list = bySecond.get(second) ?? [];
    list.push(t.ms);
    bySecond.set(second, list);
  }
  return [...bySecond.entries()].sort(([a], [b]) => a - b).map(([second, ms]) => ({ second, ms: median(ms) }));
}

/** The value at fraction `q` of `values` in order (nearest rank). @throws {RangeError} when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list; time at least one second');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.round(q * (sorted.length - 1))]!;
}

/** What one kernel's seconds on one core say. */
export interface Steadiness {
  readonly seconds: number;
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  /** p90 / p10 of the per-second medians: 1 on a core whose speed holds. */
  readonly swing: number;
  /**
   * Share of the seconds at least 25% slower than the core's fast seconds (p10): against the
   * median it would read 0 on a core that was slow for most of the measurement.
   */
  readonly slowShare: number;
}

export function steadiness(seconds: readonly { ms: number }[]): Steadiness {
  const ms = seconds.map((s) => s.ms);
  const medianMs = median(ms);
  const [p10Ms, p90Ms] = [quantile(ms, 0.1), quantile(ms, 0.9)];
  return { seconds: ms.length, medianMs, p10Ms, p90Ms, swing: p90Ms / p10Ms, slowShare: ms.filter((v) => v >= 1.25 * p10Ms).length / ms.length };
}

/**
 * Pearson's correlation of two cores' per-second medians over the seconds both have: near 1 when
 * the whole machine slows at once, near 0 when each core slows on its own. Undefined with fewer
 * than 3 shared seconds or a core whose speed never moved.
 */
export function correlation(a: readonly { second: number; ms: number }[], b: readonly { second: number; ms: number }[]): number | undefined {
  const other = new Map(b.map((s) => [s.second, s.ms]));
  const pairs = a.filter((s) => other.has(s.second)).map((s) => [s.ms, other.get(s.second)!] as const);
  if (pairs.length < 3) return undefined;
  const mean = (i: 0 | 1) => pairs.reduce((sum, p) => sum + p[i], 0) / pairs.length;
  const [ma, mb] = [mean(0), mean(1)];
  let [sab, saa, sbb] = [0, 0, 0];
  for (const [x, y] of pairs) {
    sab += (x - ma) * (y - mb);
    saa += (x - ma) ** 2;
    sbb += (y - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? undefined : sab / Math.sqrt(saa * sbb);
}

/**
 * How much a core's speed, averaged over `window` seconds, moves from one window to the next: the
 * coefficient of variation (standard deviation over mean) of the means of consecutive,
 * non-overlapping windows of the per-second medians (a part window at the end is left out). A run
 * of that length meets a machine this much faster or slower than the last; where the drift is
 * only second-to-second noise, it falls with the square root of the window. Undefined with fewer
 * than 3 whole windows.
 */
export function windowVariation(seconds: readonly { ms: number }[], window: number): { windows: number; cv: number } | undefined {
  if (!(Number.isInteger(window) && window > 0)) throw new RangeError(`window must be a positive whole number of seconds, got ${window}`);
  const count = Math.floor(seconds.length / window);
  if (count < 3) return undefined;
  const means = Array.from({ length: count }, (_, w) => seconds.slice(w * window, (w + 1) * window).reduce((sum, s) => sum + s.ms, 0) / window);
  const mean = means.reduce((a, b) => a + b, 0) / count;
  const sd = Math.sqrt(means.reduce((sum, m) => sum + (m - mean) ** 2, 0) / (count - 1));
  return { windows: count, cv: sd / mean };
}

/**
 * The expected (greatest − least) / mean of `n` runs whose speeds vary by `cv` (normal): the
 * expected range of n standard normal samples (d2 of quality control: 1.128, 1.693, 2.059, 2.326
 * for 2..5) times cv. The simulator's validation calls a configuration unmeasurable when its runs
 * spread more than 15% this way.
 */
export function expectedSpread(cv: number, n: number): number {
  const d2 = RANGE_FACTOR[n];
  if (d2 === undefined) throw new RangeError(`expectedSpread knows 2 to 5 runs, got ${n}`);
  return d2 * cv;
}
const RANGE_FACTOR: Record<number, number> = { 2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326 };
