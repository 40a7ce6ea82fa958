import { windowFor, windowMeans } from '../common/curves.js';
import { divergencePoints, lineChart } from '../common/line-chart.js';
import type { Row } from '../common/plot.js';
import { sig } from '../common/table.js';
import type { PlottedRun, TimedStep } from './open-runs.js';
import { samplesPerSecond } from './samples-per-second.js';

/** Points per curve: enough to show the shape, few enough to keep the SVG small. */
const POINTS = 200;
/** Fewer for samples/s: each point times a whole window of steps, which a millisecond clock times poorly one step at a time. */
const RATE_POINTS = 50;
const STEP = { field: 'step', title: 'step', count: true } as const;

/** One row per window of steps: the mean of `field`, and where the run's value first was not finite, a null there. */
function windowRows(run: PlottedRun, field: 'loss' | 'lr' | 'gradNorm'): Row[] {
  const value = (s: TimedStep): number => s[field];
  const rows: Row[] = windowMeans(run.steps, windowFor(run.steps.length, POINTS), value).map((p) => ({ run: run.label, step: p.step, [field]: sig(p.value) }));
  const broken = run.steps.find((s) => !Number.isFinite(value(s)));
  if (broken) rows.push({ run: run.label, step: broken.step, [field]: null });
  return rows;
}

export interface RunPlots {
  /** SVG documents by file name. */
  readonly plots: Record<string, string>;
  /** Plots left out, and why. */
  readonly notes: string[];
}

/** The plots of `dptrain plot`: one line per run in each. */
export async function runPlots(runs: readonly PlottedRun[]): Promise<RunPlots> {
  const loss = runs.flatMap((r) => windowRows(r, 'loss'));
  const plots: Record<string, string> = {};
  const notes: string[] = [];
  plots['loss.svg'] = await lineChart({
    title: 'Training loss (mean over windows of steps)',
    rows: loss,
    x: STEP,
    y: { field: 'loss', title: 'training loss', scale: 'auto' },
    series: 'run',
    divergence: true,
  });
  const evals: Row[] = runs.flatMap((r) => r.evals.map((e) => ({ run: r.label, step: e.step, split: e.split, accuracy: e.accuracy })));
  if (evals.length > 0) {
    const splits = new Set(evals.map((e) => e.split));
    plots['accuracy.svg'] = await lineChart({
      title: splits.size > 1 ? 'Accuracy of each evaluation' : `${[...splits][0] === 'test' ? 'Test' : 'Validation'} accuracy of each evaluation`,
      rows: evals,
      x: STEP,
      y: { field: 'accuracy', title: 'accuracy' },
      series: 'run',
      ...(splits.size > 1 ? { column: 'split' } : {}),
      points: true,
      width: splits.size > 1 ? 320 : 420,
    });
  } else notes.push('accuracy.svg: no run has an evaluation yet (one is made at the end of each epoch)');
  plots['learning-rate.svg'] = await lineChart({
    title: 'Learning rate',
    rows: runs.flatMap((r) => windowRows(r, 'lr')),
    x: STEP,
    y: { field: 'lr', title: 'learning rate', scale: 'auto' },
    series: 'run',
  });
  plots['grad-norm.svg'] = await lineChart({
    title: 'Gradient norm (mean over windows of steps)',
    rows: runs.flatMap((r) => windowRows(r, 'gradNorm')),
    x: STEP,
    y: { field: 'gradNorm', title: '‖g‖', scale: 'auto' },
    series: 'run',
    diverged: divergencePoints(loss, 'step', 'loss', 'run'),
  });
  const rates: Row[] = runs.flatMap((r) =>
    r.batchSize === undefined
      ? []
      : samplesPerSecond(r.steps, r.evals, r.batchSize, windowFor(r.steps.length, RATE_POINTS)).map((p) => ({
          run: r.label,
          seconds: sig(p.seconds, 4),
          samplesPerSecond: sig(p.samplesPerSecond, 4),
        })),
  );
  const untimed = runs.filter((r) => !rates.some((p) => p.run === r.label)).map((r) => r.label);
  if (rates.length > 0)
    plots['samples-per-second.svg'] = await lineChart({
      title: 'Training throughput (evaluations left out)',
      rows: rates,
      x: { field: 'seconds', title: 'seconds since the first step' },
      y: { field: 'samplesPerSecond', title: 'samples/s' },
      series: 'run',
    });
  if (untimed.length > 0)
    notes.push(
      `samples-per-second.svg: ${untimed.join(', ')} ${untimed.length > 1 ? 'have' : 'has'} no record times or batch size (metrics.jsonl \`time\`, config.json \`batchSize\`), so ${untimed.length > 1 ? 'they are' : 'it is'} not in it`,
    );
  return { plots, notes };
}
