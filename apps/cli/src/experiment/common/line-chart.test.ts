import { describe, expect, it } from 'vitest';
import { divergencePoints, lineChart, lineChartSpec, type LineChart } from './line-chart.js';
import { PALETTE } from './plot-rules.js';
import type { Row } from './plot.js';

type Encoding = Record<string, { scale: { domain: unknown[]; range: unknown[]; type: string }; axis?: { values?: number[]; format?: string } }>;
type Spec = { encoding: Encoding; title: unknown; hconcat?: Spec[]; vconcat?: Spec[]; data: { values: Row[] } };

/** The panels of a spec, row by row. */
function panels(spec: Spec): Spec[] {
  return (spec.vconcat ?? [spec]).flatMap((row) => row.hconcat ?? [row]);
}

const curve = (series: string, ys: readonly (number | null)[]): Row[] => ys.map((loss, i) => ({ series, step: i + 1, loss }));

describe('lineChartSpec', () => {
  const chart = (rows: Row[], extra: Partial<LineChart> = {}): Spec =>
    lineChartSpec({
      title: 't',
      rows,
      x: { field: 'step', title: 'step', count: true },
      y: { field: 'loss', title: 'loss', scale: 'auto' },
      series: 'series',
      ...extra,
    }) as unknown as Spec;

  it('orders the legend of numeric series numerically', () => {
    const rows = ['batch 1024', 'batch 16', 'batch 256', 'batch 64'].flatMap((s) => curve(s, [2, 1]));
    expect(chart(rows).encoding.color!.scale.domain).toEqual(['batch 16', 'batch 64', 'batch 256', 'batch 1024']);
  });

  it('gives every series its own colour, splitting into panels with their own legend past the palette', () => {
    const few = chart(['a', 'b', 'c'].flatMap((s) => curve(s, [2, 1])));
    expect(new Set(few.encoding.color!.scale.range).size).toBe(3);
    const names = Array.from({ length: PALETTE.length + 4 }, (_, i) => `run ${i}`);
    const many = chart(names.flatMap((s) => curve(s, [2, 1])));
    expect(many.vconcat).toHaveLength(2);
    for (const panel of panels(many)) {
      const { domain, range } = panel.encoding.color!.scale;
      expect(new Set(range).size).toBe(domain.length);
      expect(domain.length).toBeLessThanOrEqual(PALETTE.length);
    }
    expect(panels(many).flatMap((p) => p.encoding.color!.scale.domain)).toEqual(names);
  });

  it('puts the ticks of a count axis on integers only', () => {
    const epochs = chart(curve('a', [2, 1.5, 1.2]));
    expect(epochs.encoding.x!.axis!.values).toEqual([1, 2, 3]);
    const steps = chart(
      curve(
        'a',
        Array.from({ length: 500 }, (_, i) => 2 / (i + 1)),
      ),
    );
    const ticks = steps.encoding.x!.axis!.values!;
    expect(ticks.length).toBeGreaterThan(2);
    expect(ticks.every((t) => Number.isInteger(t))).toBe(true);
    expect(steps.encoding.x!.axis!.format).toBe(',d');
  });

  it('does not let a diverged series set the domain: it is clipped, labelled and noted', () => {
    const rows = [...curve('batch 64', [2.3, 1, 0.5, 0.4]), ...curve('batch 4096', [2.3, 2, 50, 1e10, 1e30])];
    const spec = chart(rows, { divergence: true });
    const [, high] = spec.encoding.y!.scale.domain as [number, number];
    expect(high).toBeLessThan(3);
    expect(spec.encoding.color!.scale.domain).toEqual(['batch 64', 'batch 4096 (diverged)']);
    expect(spec.title).toEqual({ text: 't', subtitle: ['batch 4096 diverged at step = 3 (clipped)'] });
    // Its points past the divergence are still drawn (and clipped by the plot area).
    expect(spec.data.values.filter((r) => r.series === 'batch 4096 (diverged)')).toHaveLength(5);
  });

  it('ends a series at a non-finite value in any chart, and clips series that diverged in another chart', () => {
    const rows = [...curve('a', [2, 1, 0.5]), ...curve('b', [3, 100, null])];
    const spec = chart(rows);
    expect(spec.encoding.color!.scale.domain).toEqual(['a', 'b (diverged)']);
    const norms = [...curve('a', [1, 1, 1]), ...curve('b', [1, 1e12, 1e20])].map((r) => ({ ...r, norm: r.loss }));
    const clipped = lineChartSpec({
      title: 'norms',
      rows: norms,
      x: { field: 'step', title: 'step' },
      y: { field: 'norm', title: 'norm', scale: 'auto' },
      series: 'series',
      diverged: divergencePoints(rows, 'step', 'loss', 'series'),
    }) as unknown as Spec;
    expect((clipped.encoding.y!.scale.domain as number[])[1]).toBeLessThan(2);
  });

  it('draws reference lines dashed without letting them squash the measured ones', () => {
    const measured = [1, 2, 4].map((workers) => ({ series: 's', workers, rate: 3000 + workers * 100 }));
    const ideal = [1, 2, 4].map((workers) => ({ series: 's', workers, rate: 3100 * workers }));
    const spec = lineChartSpec({
      title: 'throughput',
      rows: measured,
      x: { field: 'workers', title: 'workers', count: true },
      y: { field: 'rate', title: 'samples/s' },
      series: 'series',
      reference: { rows: ideal, label: 'ideal' },
    }) as unknown as Spec;
    const [low, high] = spec.encoding.y!.scale.domain as [number, number];
    expect(high - low).toBeLessThan(2 * 300 * 1.2);
    expect(spec.encoding.strokeDash!.scale).toEqual({
      domain: ['measured', 'ideal'],
      range: [
        [1, 0],
        [6, 4],
      ],
    });
    expect(spec.data.values.filter((r) => r.__line === 'ideal')).toHaveLength(3);
  });

  it('splits into panels by a column, each with its y domain fitted to its own values', () => {
    const rows = [...curve('a', [0.3, 0.4]).map((r) => ({ ...r, split: 'train' })), ...curve('a', [30, 40]).map((r) => ({ ...r, split: 'test' }))];
    const spec = chart(rows, { column: 'split' });
    expect(spec.hconcat).toHaveLength(2);
    const [train, test] = panels(spec).map((p) => p.encoding.y!.scale.domain as number[]);
    expect(train![1]).toBeLessThan(1);
    expect(test![0]).toBeGreaterThan(20);
  });
});

describe('lineChart', () => {
  it('renders an SVG with one line per series and its legend label', async () => {
    const svg = await lineChart({
      title: 'loss',
      rows: [...curve('batch 16', [2, 1, 0.5]), ...curve('batch 256', [2, 1.5, 1])],
      x: { field: 'step', title: 'step', count: true },
      y: { field: 'loss', title: 'loss', scale: 'auto' },
      series: 'series',
    });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['batch 16', 'batch 256']) {
      expect(svg).toContain(`>${label}</text>`);
      expect(svg.match(new RegExp(`<path aria-label="[^"]*series: ${label}"[^>]*role="graphics-symbol"`, 'g'))?.length ?? 0).toBeGreaterThan(0);
    }
  });
});
