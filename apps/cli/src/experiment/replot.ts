import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '@dptrain/config';
import { batchPlots, type BatchResults } from './batch-size/report.js';
import { plotFormats, writePlots } from './common/plot-files.js';
import { depthPlots, type DepthResults } from './depth/report.js';
import { optimizerPlots, type OptimizerResults } from './optimizers/report.js';
import { scalingPlots, type ScalingResults } from './scaling/report.js';
import { simulatePlots, type SimulateResults } from './simulate/report.js';

/** Each experiment's plots, from the results.json its report saved. */
const PLOTTERS: Readonly<Record<string, (results: unknown) => Promise<Record<string, string>>>> = {
  scaling: (r) => scalingPlots(r as ScalingResults),
  optimizers: (r) => optimizerPlots(r as OptimizerResults),
  'batch-size': (r) => batchPlots(r as BatchResults),
  depth: (r) => depthPlots(r as DepthResults),
  simulate: (r) => simulatePlots(r as SimulateResults),
};

/** Draws the plots of the report in `dir` again from its results.json, into `dir`; returns the paths written. */
export async function replot(dir: string, formats: ReturnType<typeof plotFormats>): Promise<string[]> {
  const file = join(dir, 'results.json');
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `${dir} holds no results.json; give the folder of a report written by dptrain experiment (its --out, e.g. docs/experiments/scaling)`,
    );
  });
  let results: { experiment?: unknown };
  try {
    results = JSON.parse(text) as { experiment?: unknown };
  } catch (error) {
    throw new ConfigError('E_CONFIG_VALUE', `${file} is not JSON (${(error as Error).message}); write the report again with its dptrain experiment command`);
  }
  const plotter = typeof results.experiment === 'string' && Object.hasOwn(PLOTTERS, results.experiment) ? PLOTTERS[results.experiment] : undefined;
  if (!plotter)
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `${file} is not the results of an experiment this dptrain knows ("experiment": ${JSON.stringify(results.experiment)}; known: ${Object.keys(PLOTTERS).join(', ')})`,
    );
  return writePlots(dir, await plotter(results), formats);
}

/**
 * `dptrain experiment replot DIR…`: a report's plots drawn again from its saved results (after a
 * change to how plots are drawn), without running the experiment again.
 */
export function registerReplot(group: Command): void {
  group
    .command('replot')
    .description("draw the plots of reports again from their results.json, without running anything (the report's text is left as it is)")
    .argument('<dirs...>', 'report folders (the --out of an experiment, e.g. docs/experiments/scaling)')
    .addOption(new Option('--format <list>', 'svg, png or both (svg,png); PNGs are twice the size of the SVG').default('svg'))
    .action(async (dirs: string[], options: { format: string }) => {
      const formats = plotFormats(options.format);
      for (const dir of dirs) for (const path of await replot(dir, formats)) process.stdout.write(`${path}\n`);
    });
}
