// Line charts drawn as inline SVG, sized to their box each time they are drawn.
import { s } from './dom.js';
import { tick } from './format.js';

/**
 * @typedef {{ x: number, y: number | null }} Point
 * @typedef {{ label: string, kind: string, points: Point[], dots?: boolean }} Line
 * @typedef {{ x?: (x: number) => string, y?: (y: number) => string, yLog?: boolean, yFloor?: number, yCeiling?: number, empty?: string }} Axes
 */

const MARGIN = { left: 52, right: 12, top: 24, bottom: 24 };

/**
 * About `count` round values (1, 2 or 5 × 10ⁿ apart) within [lo, hi].
 * @param {number} lo
 * @param {number} hi
 * @param {number} count
 * @returns {number[]}
 */
export function niceTicks(lo, hi, count) {
  if (!(hi > lo) || count < 1) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  // The round step nearest to the raw one (on a log scale), as d3 chooses it.
  const error = raw / magnitude;
  const step = magnitude * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1);
  const ticks = [];
  for (let i = Math.ceil(lo / step); i * step <= hi + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/**
 * The smallest and largest finite values, or undefined when there is none.
 * @param {Iterable<number | null>} values
 * @returns {[number, number] | undefined}
 */
export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * The `d` of a path through `points` in pixels, broken where a y is missing (a non-finite loss).
 * @param {Point[]} points
 * @param {(x: number) => number} px
 * @param {(y: number) => number} py
 * @returns {string}
 */
export function pathOf(points, px, py) {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(p.x).toFixed(1)} ${py(p.y).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Draws `lines` into `svg`, replacing what was there; `data-points` on the svg counts the
 * points of the first line, on each line's group its own.
 * @param {SVGSVGElement} svg
 * @param {Line[]} lines
 * @param {Axes} [axes]
 */
export function drawChart(svg, lines, axes = {}) {
  // A log scale draws log10(y) on a linear one (values ≤ 0 left out) and labels the ticks 10^v.
  if (axes.yLog) {
    const log = lines.map((line) => ({ ...line, points: line.points.map((p) => ({ x: p.x, y: p.y !== null && p.y > 0 ? Math.log10(p.y) : null })) }));
    const fy = axes.y ?? tick;
    drawChart(svg, log, { ...axes, yLog: false, yFloor: undefined, yCeiling: undefined, y: (v) => fy(10 ** v) });
    return;
  }
  const box = svg.getBoundingClientRect();
  const width = Math.max(160, Math.round(box.width));
  const height = Math.max(120, Math.round(box.height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.dataset.points = String(lines[0]?.points.length ?? 0);
  const shown = lines.filter((line) => line.points.length > 0);
  const xs = extent(shown.flatMap((line) => line.points.map((p) => p.x)));
  const ys = extent(shown.flatMap((line) => line.points.map((p) => p.y)));
  if (!xs || !ys) {
    svg.replaceChildren(s('text', { x: width / 2, y: height / 2, class: 'empty', 'text-anchor': 'middle' }, [axes.empty ?? 'nothing yet']));
    return;
  }
  const [x0, x1] = xs[1] > xs[0] ? xs : [xs[0] - 1, xs[0] + 1];
  const pad = (ys[1] - ys[0]) * 0.05 || Math.abs(ys[0]) * 0.05 || 0.5;
  const y0 = Math.max(axes.yFloor ?? -Infinity, ys[0] - pad);
  const y1 = Math.min(axes.yCeiling ?? Infinity, ys[1] + pad);
  const plot = { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: height - MARGIN.bottom };
  /** @param {number} x */
  const px = (x) => plot.left + ((x - x0) / (x1 - x0)) * (plot.right - plot.left);
  /** @param {number} y */
  const py = (y) => plot.bottom - ((y - y0) / (y1 - y0 || 1)) * (plot.bottom - plot.top);
  const fx = axes.x ?? tick;
  const fy = axes.y ?? tick;

  const grid = niceTicks(y0, y1, Math.max(2, Math.floor((plot.bottom - plot.top) / 40))).map((v) =>
    s('g', { class: 'tick' }, [
      s('line', { x1: plot.left, x2: plot.right, y1: py(v), y2: py(v) }),
      s('text', { x: plot.left - 6, y: py(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, [fy(v)]),
    ]),
  );
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor((plot.right - plot.left) / 90))).map((v) =>
    s('text', { class: 'tick', x: px(v), y: height - 6, 'text-anchor': 'middle' }, [fx(v)]),
  );
  const drawn = lines.map((line) =>
    s('g', { class: `series ${line.kind}`, 'data-points': line.points.length }, [
      s('path', { d: pathOf(line.points, px, py) }),
      ...(line.dots
        ? line.points.filter((p) => p.y !== null && Number.isFinite(p.y)).map((p) => s('circle', { cx: px(p.x), cy: py(/** @type {number} */ (p.y)), r: 3 }))
        : []),
    ]),
  );
  let at = plot.left;
  const legend = shown.map((line) => {
    const item = s('g', { class: `legend ${line.kind}`, transform: `translate(${at} 10)` }, [
      s('line', { x1: 0, x2: 14, y1: 0, y2: 0 }),
      s('text', { x: 18, y: 0, 'dominant-baseline': 'middle' }, [line.label]),
    ]);
    at += 26 + line.label.length * 6.5;
    return item;
  });
  svg.replaceChildren(...grid, s('line', { class: 'axis', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }), ...xTicks, ...drawn, ...legend);
}
