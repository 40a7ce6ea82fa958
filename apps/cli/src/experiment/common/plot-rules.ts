// The rules every chart follows, apart from drawing it: series order, colours, scale type, the
// domain fitted to the data, ticks of count axes, diverged series. Pure functions of the data.

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** The distinct labels as a reader expects them: numbers inside compare as numbers ("batch 16" before "batch 1024"). */
export function naturalOrder(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort(natural.compare);
}

/**
 * Categorical colours, each far enough from the others to tell lines apart on white (Vega's
 * Tableau 10, then darker and more saturated hues that none of the ten is close to).
 */
export const PALETTE: readonly string[] = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
  '#1b2a6b',
  '#7a0177',
  '#006d2c',
  '#222222',
  '#a6761d',
  '#00bcd4',
];

/**
 * The series split into groups of at most `size` (one chart panel each, so no colour repeats
 * within a legend), as even as possible and in order.
 */
export function seriesGroups<T>(series: readonly T[], size = PALETTE.length): T[][] {
  const count = Math.max(1, Math.ceil(series.length / size));
  const per = Math.ceil(series.length / count);
  const groups: T[][] = [];
  for (let i = 0; i < series.length; i += per) groups.push(series.slice(i, i + per));
  return groups.length > 0 ? groups : [[]];
}

/** One colour per series, by position: at most PALETTE.length series (split more with seriesGroups). */
export function seriesColours(series: readonly string[]): string[] {
  if (series.length > PALETTE.length) throw new RangeError(`${series.length} series but ${PALETTE.length} colours; split them with seriesGroups first`);
  return series.map((_, i) => PALETTE[i]!);
}

export type ScaleChoice = 'auto' | 'log' | 'linear';

/** How many times the largest value must be the smallest for `auto` to choose a log scale. */
export const DECADE = 10;

/** `auto`: log when every value is positive and they span at least a decade, else linear. */
export function scaleTypeOf(values: readonly number[], choice: ScaleChoice): 'log' | 'linear' {
  if (choice !== 'auto') return choice;
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0 || finite.some((v) => v <= 0)) return 'linear';
  return Math.max(...finite) / Math.min(...finite) >= DECADE ? 'log' : 'linear';
}

/** How far beyond the measured values reference lines (an "ideal") may widen the domain: this share of the measured span. */
export const REFERENCE_HEADROOM = 0.5;

/**
 * The domain of an axis, fitted to `values` (zero is not forced in): padded by `pad` of the span
 * on each side, on a log scale in log space, and on a linear one not below zero when no value is. `reference` values (dashed reference lines) widen it
 * by at most REFERENCE_HEADROOM of the span, so they cannot squash the measured lines; beyond
 * that they are clipped. Non-finite values and, on a log scale, non-positive ones are left out.
 */
export function fittedDomain(values: readonly number[], type: 'log' | 'linear', pad = 0.05, reference: readonly number[] = []): [number, number] {
  const usable = (v: number): boolean => Number.isFinite(v) && (type === 'linear' || v > 0);
  const to = type === 'log' ? Math.log10 : (v: number) => v;
  const from = type === 'log' ? (v: number) => 10 ** v : (v: number) => v;
  const measured = values.filter(usable).map(to);
  if (measured.length === 0) return type === 'log' ? [1, 10] : [0, 1];
  let low = Math.min(...measured);
  let high = Math.max(...measured);
  const refs = reference.filter(usable).map(to);
  if (refs.length > 0) {
    const room = (high - low) * REFERENCE_HEADROOM;
    low = Math.max(Math.min(low, ...refs), low - room);
    high = Math.min(Math.max(high, ...refs), high + room);
  }
  // One value (a constant learning rate): a band around it.
  const span = high > low ? high - low : type === 'log' ? 0.2 : Math.abs(high) * 0.2 || 1;
  const margin = high > low ? span * pad : span / 2;
  // Values that cannot be negative (rates, accuracies, counts) are not padded below zero.
  const floor = type === 'linear' && low >= 0 ? 0 : -Infinity;
  return [from(Math.max(low - margin, floor)), from(high + margin)];
}

/** Up to this many distinct values on a count axis get a tick each, at exactly those values. */
export const MAX_LISTED_TICKS = 12;
/** Otherwise round ticks, at most this many. */
export const MAX_ROUND_TICKS = 10;

/** The ticks of a count axis with few distinct values (1, 2, 4 workers): those values; undefined when there are more than MAX_LISTED_TICKS. */
export function listedTicks(values: readonly number[]): number[] | undefined {
  const distinct = [...new Set(values.filter((v) => Number.isInteger(v)))].sort((a, b) => a - b);
  return distinct.length > 0 && distinct.length <= MAX_LISTED_TICKS ? distinct : undefined;
}

/**
 * The ticks of a linear count axis (workers, epochs, steps, layers) over `domain`: integers
 * only, the values themselves when there are few (listedTicks), else the multiples of the
 * smallest round step (1, 2, 5, 10, 20, …) that leaves at most MAX_ROUND_TICKS.
 */
export function countTicks(values: readonly number[], domain: readonly [number, number]): number[] {
  const listed = listedTicks(values);
  if (listed) return listed;
  const [low, high] = domain;
  for (let e = 0; ; e++)
    for (const m of [1, 2, 5]) {
      const step = m * 10 ** e;
      // `|| 0`: no tick reads -0.
      const first = Math.ceil(low / step) * step || 0;
      if ((high - first) / step + 1 <= MAX_ROUND_TICKS) {
        const ticks: number[] = [];
        for (let t = first; t <= high; t += step) ticks.push(t);
        return ticks;
      }
    }
}

/**
 * Ticks of a log axis over `domain`: powers of ten when it spans three decades or more, 1, 2, 5
 * of each decade over two, else 1, 2, 3, 5 (every digit when that leaves too few):
 * enough to read values off, never so many that the labels crowd.
 */
export function logTicks(domain: readonly [number, number]): number[] {
  const [low, high] = domain;
  const decades = Math.log10(high / low);
  const pick = (mantissas: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++)
      for (const m of mantissas) {
        // Rounded so that 0.1 × 3 prints as 0.3.
        const tick = Number((m * 10 ** e).toPrecision(12));
        if (tick >= low && tick <= high) ticks.push(tick);
      }
    return ticks;
  };
  if (decades >= 3) return pick([1]);
  if (decades >= 2) return pick([1, 2, 5]);
  const fewer = pick([1, 2, 3, 5]);
  return fewer.length >= 4 ? fewer : pick([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/** A series has exploded when it ends above this many times its first value. */
export const EXPLODED = 10;

/**
 * Where a series (in x order) diverged, or null when it did not: at its first non-finite value,
 * or with `exploding`, at the start of its last stretch above EXPLODED × its first value when it
 * ends (or turns non-finite) there: a loss that grew tenfold and never came back. A spike it
 * recovers from is not divergence. The points from there on do not set the domain.
 */
export function divergedAt(ys: readonly (number | null)[], exploding: boolean): number | null {
  const broken = ys.findIndex((y) => y === null || !Number.isFinite(y));
  const end = broken === -1 ? ys.length : broken;
  const first = ys[0];
  if (exploding && end > 0 && first! > 0) {
    let start = end;
    while (start > 0 && ys[start - 1]! > EXPLODED * first!) start--;
    if (start < end) return start;
  }
  return broken === -1 ? null : broken;
}
