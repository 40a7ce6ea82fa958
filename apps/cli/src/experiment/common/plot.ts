import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { PALETTE, type ScaleChoice } from './plot-rules.js';

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
  /** linear (the default), log, or auto: log when the values span a decade or more (plot-rules.ts). */
  readonly scale?: ScaleChoice;
  /** The values count something (workers, epochs, steps, layers): ticks only at integers. */
  readonly count?: boolean;
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
      color: {
        field: chart.stack,
        type: 'nominal',
        title: chart.stack,
        sort: chart.stackOrder,
        scale: { domain: chart.stackOrder, range: PALETTE.slice(0, chart.stackOrder.length) },
      },
      order: { field: 'stackIndex', type: 'quantitative' },
    },
  };
  return renderSvg(spec as TopLevelSpec);
}
