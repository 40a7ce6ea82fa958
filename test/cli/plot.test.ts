import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { parseSvg } from '../experiments/svg.js';
import { runCli, type CliResult } from './run-cli.js';
import { runTraced } from './traced-cli.js';

// dptrain plot on two small runs of the generated data set that differ only in their learning
// rate, as a user compares runs: every plot has one line per run, in its own colour, labelled
// with the run's folder name; the PNGs are the SVGs at twice their size.

const root = mkdtempSync(join(tmpdir(), 'plot-'));
const RUNS = { 'lr-0.01': '0.01', 'lr-0.1': '0.1' } as const;
const PLOTS = ['loss', 'accuracy', 'learning-rate', 'grad-norm', 'samples-per-second'];
/** The PNG of a plot is twice the SVG's size (README, "Plots of runs"). */
const PNG_ZOOM = 2;
let plot: CliResult;

beforeAll(async () => {
  const runs = await Promise.all(
    Object.entries(RUNS).map(([name, lr]) => runCli(['train', ...smallJob(['--epochs', '1', '--holdout', '0.1', '--lr', lr]), '--out', join(root, name)])),
  );
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  plot = await runCli(['plot', join(root, 'lr-0.01'), join(root, 'lr-0.1'), '--format', 'svg,png']);
});

const plotsDir = (): string => join(root, 'lr-0.01', 'plots');
const svgOf = (name: string): string => readFileSync(join(plotsDir(), `${name}.svg`), 'utf8');

/** The line marks of `run` in an SVG (one per panel), with their stroke colours. */
function linesOf(svg: string, run: string): string[] {
  const line = new RegExp(
    `<path aria-label="[^"]*; run: ${run.replace(/\./g, '\\.')}" role="graphics-symbol" aria-roledescription="line mark"[^>]* stroke="(#\\w+)"`,
    'g',
  );
  return [...svg.matchAll(line)].map((m) => m[1]!);
}

describe('dptrain plot', () => {
  it('writes each plot as SVG and PNG into plots/ of the first run, and lists the files', () => {
    expect(plot.code, plot.stderr).toBe(0);
    const written = plot.stdout.trim().split('\n');
    expect(written).toEqual(PLOTS.flatMap((p) => [join(plotsDir(), `${p}.svg`), join(plotsDir(), `${p}.png`)]));
  });

  it.each(PLOTS)('%s.svg has one series per run: its legend label, its lines, its own colour', (name) => {
    const svg = svgOf(name);
    const { root: element, texts } = parseSvg(svg);
    expect(element).toBe('svg');
    const panels = name === 'accuracy' ? 2 : 1;
    const colours = Object.keys(RUNS).map((run) => {
      expect(texts.filter((t) => t === run)).toHaveLength(1);
      const lines = linesOf(svg, run);
      expect(lines).toHaveLength(panels);
      expect(new Set(lines).size).toBe(1);
      return lines[0];
    });
    expect(new Set(colours).size).toBe(colours.length);
    // Every line mark belongs to one of the runs.
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(panels * colours.length);
  });

  it('splits accuracy into validation and test panels', () => {
    expect(parseSvg(svgOf('accuracy')).texts).toEqual(expect.arrayContaining(['validation', 'test', 'accuracy']));
  });

  it('renders each PNG at twice the size the SVG states', () => {
    for (const name of PLOTS) {
      const svg = svgOf(name);
      const size = /^<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
      expect(size, name).not.toBeNull();
      const png = PNG.sync.read(readFileSync(join(plotsDir(), `${name}.png`)));
      expect([png.width, png.height]).toEqual([Math.round(Number(size![1]) * PNG_ZOOM), Math.round(Number(size![2]) * PNG_ZOOM)]);
      // Not blank: the lines and text drew dark pixels on the white background.
      let dark = 0;
      for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 128) dark++;
      expect(dark, name).toBeGreaterThan(1000);
    }
  });

  it('refuses a folder that is not a run, a run with no step yet and an unknown format, with the fix, before loading vega', async () => {
    const notRun = join(root, 'not-a-run');
    mkdirSync(notRun);
    writeFileSync(join(notRun, 'notes.txt'), 'hello\n');
    const starting = join(root, 'starting');
    mkdirSync(starting);
    writeFileSync(join(starting, 'config.json'), '{}\n');
    writeFileSync(join(starting, 'metrics.jsonl'), '');
    const run = join(root, 'lr-0.01');
    const cases: [string[], RegExp][] = [
      [['plot', notRun], /^dptrain: \[E_RUN_FOLDER\] .*not-a-run is not a run folder \(no metrics\.jsonl, no config\.json\); give the folder of a run/m],
      [['plot', join(root, 'missing')], /missing does not exist; give the folder of a run \(the --out of dptrain train or local/],
      [['plot', run, starting], /starting has no metrics yet \(no step in metrics\.jsonl\).*plot it once it has trained/],
      [['plot', run, run], /is the run .* again; give each run once/],
      [['plot', run, '--format', 'svg,gif'], /--format svg,gif: "gif" is not a plot format; give svg, png or both/],
    ];
    const results = await Promise.all(cases.map(([args]) => runTraced(args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 1, stderr: expect.stringMatching(message) });
      expect({ args, vega: result.imports.filter((u) => /vega|resvg/.test(u)) }).toEqual({ args, vega: [] });
    });
  });
});
