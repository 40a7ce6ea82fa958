import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to an SVG document in Node: no browser, no canvas (renderer 'none'). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export type Row = Record<string, string | number | null>;

export interface Axis {
  readonly field: string;
  readonly title: string;
  /** Logarithmic scale (loss, gradient norms, batch sizes). */
  readonly log?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly rows: readonly Row[];
  readonly x: Axis;
  readonly y: Axis;
  /** The field whose values are the lines (legend). */
  readonly series: string;
  /** Also split into side-by-side panels by this field. */
  readonly column?: string;
  /** Draw points on the lines (few x values). */
  readonly points?: boolean;
  /** Series drawn dashed (reference lines such as "ideal"). */
  readonly dashed?: readonly string[];
  readonly width?: number;
  readonly height?: number;
}

function axisEncoding(axis: Axis): Record<string, unknown> {
  return { field: axis.field, type: 'quantitative', title: axis.title, scale: axis.log ? { type: 'log' } : { zero: false } };
}

/** Lines of `y` over `x`, one per value of `series`, as an SVG document. */
export function lineChart(chart: LineChart): Promise<string> {
  const dashed = chart.dashed ?? [];
  const encoding: Record<string, unknown> = {
    x: axisEncoding(chart.x),
    y: axisEncoding(chart.y),
    color: { field: chart.series, type: 'nominal', title: chart.series, legend: { labelLimit: 400 } },
    strokeDash: { condition: { test: `indexof(${JSON.stringify(dashed)}, datum[${JSON.stringify(chart.series)}]) >= 0`, value: [6, 4] }, value: [1, 0] },
  };
  const inner = {
    mark: { type: 'line', point: chart.points ?? false, clip: true },
    encoding,
    width: chart.width ?? 420,
    height: chart.height ?? 260,
  };
  const spec = chart.column
    ? {
        title: chart.title,
        data: { values: chart.rows },
        facet: { column: { field: chart.column, type: 'nominal' } },
        spec: inner,
        resolve: { scale: { y: 'independent' } },
      }
    : { title: chart.title, data: { values: chart.rows }, ...inner };
  return renderSvg({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', ...spec } as TopLevelSpec);
}

export interface StackedBars {
  readonly title: string;
  readonly rows: readonly Row[];
  /** The bar labels, in this order. */
  readonly category: { readonly field: string; readonly title: string; readonly order: readonly string[] };
  readonly value: Axis;
  /** The field whose values stack within a bar (legend). */
  readonly stack: string;
  readonly stackOrder: readonly string[];
}

/** One horizontal bar per category, split into `stack` parts, as an SVG document. */
export function stackedBars(chart: StackedBars): Promise<string> {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chart.title,
    data: { values: chart.rows },
    transform: [{ calculate: `indexof(${JSON.stringify(chart.stackOrder)}, datum[${JSON.stringify(chart.stack)}])`, as: 'stackIndex' }],
    mark: 'bar',
    width: 420,
    height: { step: 16 },
    encoding: {
      y: { field: chart.category.field, type: 'nominal', title: chart.category.title, sort: chart.category.order },
      x: { field: chart.value.field, type: 'quantitative', title: chart.value.title, stack: 'zero' },
      color: { field: chart.stack, type: 'nominal', title: chart.stack, sort: chart.stackOrder },
      order: { field: 'stackIndex', type: 'quantitative' },
    },
  };
  return renderSvg(spec as TopLevelSpec);
}
