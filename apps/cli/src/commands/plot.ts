import { join } from 'node:path';

export interface PlotOptions {
  /** Where to write the plots; default `<first run>/plots`. */
  readonly out?: string;
  /** `--format`: svg, png or both. */
  readonly format: string;
}

/**
 * `dptrain plot RUN…`: loss, accuracy, learning rate, gradient norm and samples/s of the runs side
 * by side, one colour per run, as SVG and/or PNG files. Prints each file written; says on stderr
 * which plots were left out and why.
 */
export async function runPlot(dirs: readonly string[], options: PlotOptions): Promise<void> {
  // The plots are drawn with the experiments' vega-lite code, loaded for this command only, and
  // after the format and the run folders are checked.
  const { plotFormats, writePlots } = await import('../experiment/common/plot-files.js');
  const formats = plotFormats(options.format);
  const { openRuns } = await import('../experiment/plot/open-runs.js');
  const runs = await openRuns(dirs);
  const { runPlots } = await import('../experiment/plot/run-charts.js');
  const { plots, notes } = await runPlots(runs);
  for (const note of notes) process.stderr.write(`dptrain plot: ${note}\n`);
  for (const path of await writePlots(options.out ?? join(dirs[0]!, 'plots'), plots, formats)) process.stdout.write(`${path}\n`);
}
