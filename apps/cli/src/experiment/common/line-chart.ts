import type { TopLevelSpec } from 'vega-lite';
import { renderSvg, type Axis, type Row } from './plot.js';
import { countTicks, divergedAt, fittedDomain, listedTicks, logTicks, naturalOrder, scaleTypeOf, seriesColours, seriesGroups } from './plot-rules.js';

export interface Reference {
  /** Rows with the chart's x, y, series (and column) fields: each line is drawn dashed in its series' colour. */
  readonly rows: readonly Row[];
  /** What the dashed lines are, for the legend ("ideal: one worker × workers"). */
  readonly label: string;
}

export interface LineChart {
  readonly title: string;
  readonly rows: readonly Row[];
  readonly x: Axis;
  readonly y: Axis;
  /** The field whose values are the lines (legend). */
  readonly series: string;
  /** Also split into side-by-side panels by this field, each with its own y domain. */
  readonly column?: string;
  /** Draw points on the lines (few x values). */
  readonly points?: boolean;
  /** Reference lines (an ideal): dashed, and never stretching the domain much past the measured lines. */
  readonly reference?: Reference;
  /**
   * The values can diverge (a loss): a series that ends above EXPLODED × its first value is
   * marked diverged and clipped from where it last rose past that (plot-rules.ts, divergedAt).
   * A non-finite (null) value ends a series in any chart.
   */
  readonly divergence?: boolean;
  /** Series known to have diverged elsewhere (their loss, see divergencePoints), with the x from which to clip them. */
  readonly diverged?: Readonly<Record<string, number>>;
  readonly width?: number;
  readonly height?: number;
}

/** Marks a measured row for the strokeDash channel; reference rows carry the reference's label. */
const LINE = '__line';
const MEASURED = 'measured';

interface Prepared {
  /** Rows to draw: the measured ones up to where their series diverged, then the clipped rest; the reference's. */
  readonly drawn: Row[];
  /** The measured values that set the y domain, by panel. */
  readonly fitted: Map<string, number[]>;
  /** Where series diverged: "batch 4096 diverged at step = 20 (clipped)". */
  readonly notes: string[];
}

const numberOf = (value: Row[string] | undefined): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** The rows of each line (by `keyOf`) in x order; rows without a finite x are left out. */
function linesOf(rows: readonly Row[], x: string, keyOf: (row: Row) => string): Map<string, Row[]> {
  const lines = new Map<string, Row[]>();
  for (const row of rows) {
    if (numberOf(row[x]) === null) continue;
    const line = lines.get(keyOf(row));
    if (line) line.push(row);
    else lines.set(keyOf(row), [row]);
  }
  for (const line of lines.values()) line.sort((a, b) => (a[x] as number) - (b[x] as number));
  return lines;
}

/**
 * Splits each panel's series at the point where it diverged (plot-rules.ts, divergedAt): the
 * points before set the y domain, the finite ones after are drawn and clipped, and the series is
 * labelled "(diverged)" in every panel, so that it keeps one colour.
 */
function prepare(chart: LineChart, panelOf: (row: Row) => string): Prepared {
  const lines = linesOf(chart.rows, chart.x.field, (row) => `${panelOf(row)}\u0000${String(row[chart.series])}`);
  const diverged = new Map<string, { panel: string; at: number }>();
  const healthy: Row[] = [];
  const tails: Row[] = [];
  for (const rows of lines.values()) {
    const own = divergedAt(
      rows.map((r) => numberOf(r[chart.y.field])),
      chart.divergence ?? false,
    );
    const from = chart.diverged?.[String(rows[0]![chart.series])];
    const given = from === undefined ? -1 : rows.findIndex((r) => (r[chart.x.field] as number) >= from);
    const at = given >= 0 && (own === null || given < own) ? given : own;
    healthy.push(...(at === null ? rows : rows.slice(0, at)));
    if (at === null) continue;
    tails.push(...rows.slice(at).filter((r) => numberOf(r[chart.y.field]) !== null));
    const series = String(rows[0]![chart.series]);
    const x = rows[at]![chart.x.field] as number;
    if (!diverged.has(series) || x < diverged.get(series)!.at) diverged.set(series, { panel: panelOf(rows[0]!), at: x });
  }
  const label = (row: Row, line: string): Row => {
    const series = String(row[chart.series]);
    return { ...row, [chart.series]: diverged.has(series) ? `${series} (diverged)` : series, [LINE]: line };
  };
  const fitted = new Map<string, number[]>();
  for (const row of healthy) {
    const values = fitted.get(panelOf(row)) ?? [];
    values.push(row[chart.y.field] as number);
    fitted.set(panelOf(row), values);
  }
  const reference = (chart.reference?.rows ?? [])
    .filter((r) => numberOf(r[chart.x.field]) !== null && numberOf(r[chart.y.field]) !== null)
    .map((r) => label(r, chart.reference!.label));
  const notes = [...diverged].map(
    ([series, { panel, at }]) => `${series} diverged${chart.column && panel ? ` (${panel})` : ''} at ${chart.x.title} = ${at} (clipped)`,
  );
  return { drawn: [...[...healthy, ...tails].map((r) => label(r, MEASURED)), ...reference], fitted, notes };
}

/** The Vega-Lite spec of a line chart that follows the rules of plot-rules.ts. */
export function lineChartSpec(chart: LineChart): TopLevelSpec {
  const panelOf = (row: Row): string => (chart.column ? String(row[chart.column]) : '');
  const { drawn, fitted, notes } = prepare(chart, panelOf);
  const xs = drawn.map((r) => r[chart.x.field] as number);
  const xType = scaleTypeOf(xs, chart.x.scale ?? 'linear');
  const allFitted = [...fitted.values()].flat();
  const yType = scaleTypeOf(allFitted.length > 0 ? allFitted : drawn.map((r) => numberOf(r[chart.y.field]) ?? Number.NaN), chart.y.scale ?? 'linear');
  // A log scale cannot place zero or negative values.
  const visible = drawn.filter(
    (r) => (xType === 'linear' || (r[chart.x.field] as number) > 0) && (yType === 'linear' || (numberOf(r[chart.y.field]) ?? 0) > 0),
  );
  const xDomain = fittedDomain(
    visible.map((r) => r[chart.x.field] as number),
    xType,
    chart.points ? 0.04 : 0,
  );
  const panels = [...new Set(visible.map(panelOf))];
  const series = naturalOrder(visible.filter((r) => r[LINE] === MEASURED).map((r) => String(r[chart.series])));
  const reference = chart.reference;

  const panel = (name: string, group: readonly string[]): Record<string, unknown> => {
    const rows = visible.filter((r) => panelOf(r) === name && group.includes(String(r[chart.series])));
    const measuredYs = fitted.get(name) ?? [];
    const referenceYs = rows.filter((r) => r[LINE] !== MEASURED).map((r) => r[chart.y.field] as number);
    const ys = measuredYs.length > 0 ? measuredYs : rows.map((r) => numberOf(r[chart.y.field]) ?? Number.NaN);
    const encoding: Record<string, unknown> = {
      x: axisEncoding(chart.x, xType, xDomain, xs),
      y: axisEncoding(chart.y, yType, fittedDomain(ys, yType, 0.05, referenceYs), ys),
      color: {
        field: chart.series,
        type: 'nominal',
        title: chart.series,
        scale: { domain: group, range: seriesColours(group) },
        legend: { labelLimit: 400 },
      },
    };
    if (reference)
      encoding.strokeDash = {
        field: LINE,
        type: 'nominal',
        title: 'line',
        scale: {
          domain: [MEASURED, reference.label],
          range: [
            [1, 0],
            [6, 4],
          ],
        },
        legend: { labelLimit: 400, symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#444' } } } } },
      };
    return {
      ...(chart.column ? { title: name } : {}),
      data: { values: rows },
      mark: { type: 'line', point: chart.points ?? false, clip: true },
      encoding,
      width: chart.width ?? 420,
      height: chart.height ?? 260,
    };
  };
  const row = (group: readonly string[]): Record<string, unknown> =>
    panels.length === 1 ? panel(panels[0]!, group) : { hconcat: panels.map((p) => panel(p, group)) };
  const groups = seriesGroups(series);
  const body =
    groups.length === 1
      ? row(groups[0]!)
      : // Each group of series gets its own legend, so no colour stands for two series.
        { vconcat: groups.map(row), resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: notes.length > 0 ? { text: chart.title, subtitle: notes } : chart.title,
    ...body,
  } as TopLevelSpec;
}

/**
 * Every axis keeps its fitted domain (rounding it out to nice numbers would reach past the data:
 * an accuracy of 1.1). A count axis has integer ticks only (plot-rules.ts, countTicks); a log
 * axis, ticks that do not crowd (logTicks).
 */
function axisEncoding(axis: Axis, type: 'log' | 'linear', domain: [number, number], values: readonly number[]): Record<string, unknown> {
  const base = { field: axis.field, type: 'quantitative', title: axis.title };
  if (type === 'log') {
    const ticks = (axis.count && listedTicks(values)) || logTicks(domain).filter((t) => !axis.count || Number.isInteger(t));
    return { ...base, scale: { type, domain, nice: false }, axis: { format: axis.count ? ',d' : '~g', ...(ticks.length >= 2 ? { values: ticks } : {}) } };
  }
  if (axis.count) return { ...base, scale: { type, domain, nice: false, zero: false }, axis: { values: countTicks(values, domain), format: ',d' } };
  return { ...base, scale: { type, domain, nice: false, zero: false } };
}

/**
 * Where each series diverged (a non-finite or exploding value, plot-rules.ts), by its x value:
 * for the charts of the same runs' other quantities, whose series should end there too.
 */
export function divergencePoints(rows: readonly Row[], x: string, y: string, series: string): Record<string, number> {
  const points: Record<string, number> = {};
  for (const [name, list] of linesOf(rows, x, (row) => String(row[series]))) {
    const at = divergedAt(
      list.map((r) => numberOf(r[y])),
      true,
    );
    if (at !== null) points[name] = list[at]![x] as number;
  }
  return points;
}

/** Lines of `y` over `x`, one per value of `series`, as an SVG document. */
export function lineChart(chart: LineChart): Promise<string> {
  return renderSvg(lineChartSpec(chart));
}
