import { lineChart } from '../common/line-chart.js';
import type { Axis, Row } from '../common/plot.js';
import { provenance, type Machine } from '../common/report.js';
import { markdownTable, toCsv, type Column } from '../common/table.js';
import type { BatchSummary } from './summarize.js';

export interface BatchCurve {
  readonly id: string;
  readonly batchSize: number;
  /** Smoothed training loss with the step's position in samples and (estimated) seconds. */
  readonly points: readonly { step: number; samples: number; seconds: number; loss: number }[];
  readonly accuracy: readonly { epoch: number; split: string; accuracy: number }[];
}

export interface BatchResults {
  readonly experiment: 'batch-size';
  readonly command: string;
  readonly machine: Machine;
  readonly config: Record<string, unknown>;
  readonly baseBatch: number;
  readonly baseLr: number;
  readonly warmupFraction: number;
  readonly targetAccuracy: number;
  readonly runs: readonly BatchSummary[];
  readonly curves: readonly BatchCurve[];
}

export const BATCH_COLUMNS: readonly Column[] = [
  { key: 'batchSize', header: 'batch' },
  { key: 'lr', header: 'lr (linear rule)' },
  { key: 'warmupSteps', header: 'warm-up steps' },
  { key: 'steps', header: 'steps' },
  { key: 'samplesPerSecond', header: 'samples/s' },
  { key: 'wallSeconds', header: 'wall s' },
  { key: 'trainLoss', header: 'train loss (last epoch)' },
  { key: 'validationAccuracy', header: 'validation acc.' },
  { key: 'testAccuracy', header: 'test acc.' },
  { key: 'epochsToTarget', header: 'epochs to target' },
  { key: 'secondsToTarget', header: 's to target' },
  { key: 'error', header: 'error' },
];

const CSV_KEYS = ['id', ...BATCH_COLUMNS.map((c) => c.key)];

export async function batchPlots(results: BatchResults): Promise<Record<string, string>> {
  const rows: Row[] = results.curves.flatMap((c) => c.points.map((p) => ({ batch: `batch ${c.batchSize}`, ...p })));
  const accuracy: Row[] = results.curves.flatMap((c) => c.accuracy.map((a) => ({ batch: `batch ${c.batchSize}`, ...a })));
  const chart = (x: Axis): Promise<string> =>
    lineChart({
      title: `Training loss vs ${x.title}`,
      rows,
      x,
      y: { field: 'loss', title: 'training loss', scale: 'auto' },
      series: 'batch',
      divergence: true,
    });
  return {
    'loss-vs-steps.svg': await chart({ field: 'step', title: 'steps', scale: 'auto', count: true }),
    'loss-vs-samples.svg': await chart({ field: 'samples', title: 'samples seen', count: true }),
    'loss-vs-time.svg': await chart({ field: 'seconds', title: 'seconds (estimated)' }),
    'accuracy.svg': await lineChart({
      title: 'Accuracy by epoch',
      rows: accuracy,
      x: { field: 'epoch', title: 'epoch', count: true },
      y: { field: 'accuracy', title: 'accuracy' },
      series: 'batch',
      column: 'split',
      points: true,
      width: 300,
    }),
  };
}

export function batchDocuments(results: BatchResults, plotNames: readonly string[]): Record<string, string> {
  const c = results.config;
  const lines = [
    '# Batch size: from small mini-batches towards the full batch',
    '',
    `Model ${String(c.model)} on ${String(c.dataset)}, optimizer ${String(c.optimizer)}, schedule ${String(c.schedule)}, ${String(c.epochs)} epochs for every batch size (the same samples seen), holdout ${String(c.holdout)}, seed ${String(c.seed)}, backend ${String(c.backend)}; each run is \`dptrain train\`. ` +
      `Linear scaling rule: lr = ${results.baseLr} × batch / ${results.baseBatch}; batches above ${results.baseBatch} warm up linearly over the first ${results.warmupFraction * 100}% of their steps (Goyal et al., 2017).`,
    '',
    `Target: ${results.targetAccuracy} accuracy on the validation split (the test split when there is none), checked at the end of each epoch; seconds assume every step of a run took the same time (its wall time spread evenly over its steps). ` +
      "samples/s is the run's whole wall time, evaluation included.",
    '',
    markdownTable(BATCH_COLUMNS, results.runs),
    '',
    ...plotNames.map((n) => `![${n.replace('.svg', '')}](${n})\n`),
    provenance(results.command, results.machine, results.config),
  ];
  return { 'report.md': lines.join('\n'), 'results.csv': toCsv(CSV_KEYS, results.runs), 'results.json': `${JSON.stringify(results, null, 2)}\n` };
}
