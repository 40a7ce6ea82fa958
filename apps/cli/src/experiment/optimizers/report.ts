import { lineChart } from '../common/line-chart.js';
import type { Row } from '../common/plot.js';
import { provenance, type Machine } from '../common/report.js';
import { markdownTable, sig, toCsv, type Column } from '../common/table.js';
import { groupBest, type RunSummary } from './summarize.js';

/** One run's curves: smoothed training loss by step; train/validation/test loss and accuracy by epoch. */
export interface RunCurves {
  readonly id: string;
  readonly optimizer: string;
  readonly trainLoss: readonly { step: number; loss: number }[];
  readonly epochs: readonly { epoch: number; split: 'train' | 'validation' | 'test'; loss: number; accuracy: number | null }[];
}

export interface OptimizerResults {
  readonly experiment: 'optimizers';
  readonly command: string;
  readonly runner: 'train' | 'local';
  readonly machine: Machine;
  readonly config: Record<string, unknown>;
  readonly targetLoss: number;
  readonly lrFactors: readonly number[];
  readonly runs: readonly RunSummary[];
  readonly best: readonly RunSummary[];
  readonly curves: readonly RunCurves[];
}

export const RUN_COLUMNS: readonly Column[] = [
  { key: 'optimizer', header: 'optimizer' },
  { key: 'lr', header: 'lr' },
  { key: 'trainLoss', header: 'train loss (last epoch)' },
  { key: 'bestValidationAccuracy', header: 'best validation acc.' },
  { key: 'bestEpoch', header: 'at epoch' },
  { key: 'testAccuracy', header: 'test acc. there' },
  { key: 'testLoss', header: 'test loss there' },
  { key: 'generalizationGap', header: 'gap (test − train loss)' },
  { key: 'stepsToTarget', header: 'steps to target loss' },
  { key: 'secondsToTarget', header: 's to target loss' },
  { key: 'wallSeconds', header: 'wall s' },
  { key: 'error', header: 'error' },
];

const CSV_KEYS = ['id', ...RUN_COLUMNS.map((c) => c.key)];

export async function optimizerPlots(results: OptimizerResults): Promise<Record<string, string>> {
  const bestIds = new Set(results.best.map((b) => b.id));
  const chosen = results.curves.filter((c) => bestIds.has(c.id));
  const label = (c: RunCurves): string => `${c.optimizer} (lr ${results.runs.find((r) => r.id === c.id)?.lr})`;
  const lossRows: Row[] = chosen.flatMap((c) => c.trainLoss.map((p) => ({ run: label(c), step: p.step, loss: p.loss })));
  const epochRows: Row[] = chosen.flatMap((c) => c.epochs.map((e) => ({ run: label(c), epoch: e.epoch, split: e.split, loss: e.loss, accuracy: e.accuracy })));
  const sweepRows: Row[] = results.runs
    .filter((r) => (r.bestValidationAccuracy ?? r.testAccuracy) !== null)
    .map((r) => ({ optimizer: r.optimizer, lr: r.lr, accuracy: r.bestValidationAccuracy ?? r.testAccuracy }));
  return {
    'train-loss.svg': await lineChart({
      title: 'Training loss (mean of each window of mini-batches), best lr of each optimizer',
      rows: lossRows,
      x: { field: 'step', title: 'step', count: true },
      y: { field: 'loss', title: 'training loss', scale: 'auto' },
      series: 'run',
      divergence: true,
    }),
    'loss-by-epoch.svg': await lineChart({
      title: 'Train / validation / test loss by epoch (best lr of each)',
      rows: epochRows,
      x: { field: 'epoch', title: 'epoch', count: true },
      y: { field: 'loss', title: 'loss', scale: 'auto' },
      series: 'run',
      column: 'split',
      points: true,
      divergence: true,
      width: 260,
    }),
    'accuracy-by-epoch.svg': await lineChart({
      title: 'Validation and test accuracy by epoch (best lr of each)',
      rows: epochRows.filter((r) => r.accuracy !== null),
      x: { field: 'epoch', title: 'epoch', count: true },
      y: { field: 'accuracy', title: 'accuracy' },
      series: 'run',
      column: 'split',
      points: true,
      width: 300,
    }),
    'lr-sweep.svg': await lineChart({
      title: `${results.runs.some((r) => r.bestValidationAccuracy !== null) ? 'Best validation' : 'Test'} accuracy over the learning-rate sweep`,
      rows: sweepRows,
      x: { field: 'lr', title: 'learning rate', scale: 'auto' },
      y: { field: 'accuracy', title: 'accuracy' },
      series: 'optimizer',
      points: true,
    }),
  };
}

/** The generated reading of the numbers against Wilson et al. (2018). */
export function wilsonParagraph(best: readonly RunSummary[]): string {
  const { adaptive, nonAdaptive } = groupBest([...best]);
  if (!adaptive || !nonAdaptive)
    return 'The sweep has no run of one of the two groups (non-adaptive: sgd, momentum, nesterov; adaptive: adagrad, adadelta, adam, adamw, rmsprop), so it cannot compare them.';
  const acc = (r: RunSummary): string => (r.testAccuracy === null ? 'n/a' : `${(r.testAccuracy * 100).toFixed(2)}%`);
  const diff = adaptive.testAccuracy !== null && nonAdaptive.testAccuracy !== null ? sig((nonAdaptive.testAccuracy - adaptive.testAccuracy) * 100, 3) : null;
  return [
    `Best non-adaptive method by validation accuracy: **${nonAdaptive.optimizer}** (lr ${nonAdaptive.lr}), test accuracy ${acc(nonAdaptive)}, gap ${nonAdaptive.generalizationGap ?? 'n/a'}. `,
    `Best adaptive method: **${adaptive.optimizer}** (lr ${adaptive.lr}), test accuracy ${acc(adaptive)}, gap ${adaptive.generalizationGap ?? 'n/a'}. `,
    diff === null
      ? ''
      : diff === 0
        ? 'Their test accuracies are equal. '
        : `The non-adaptive one is ${diff > 0 ? `${diff} points better` : `${-diff} points worse`} on the test set. `,
    'One seed and a small learning-rate sweep: differences of a few tenths of a point are within what another seed or lr could change.',
  ].join('');
}

export function optimizerDocuments(results: OptimizerResults, plotNames: readonly string[]): Record<string, string> {
  const c = results.config;
  const lines = [
    "# Optimizers: the lecture's methods on the same model and data, with holdout validation",
    '',
    `Model ${String(c.model)} on ${String(c.dataset)}, ${String(c.epochs)} epochs, batch ${String(c.batchSize)}, schedule ${String(c.schedule)}, holdout ${String(c.holdout)} of the training set for validation, seed ${String(c.seed)}, backend ${String(c.backend)}. ` +
      `Each optimizer at ${results.lrFactors.length} learning rate(s), ${results.lrFactors.join(', ')} × its usual one; every run is \`dptrain ${results.runner}\`${results.runner === 'train' ? " (one process; the cluster's synchronous runs give the same parameters bit for bit)" : ` (the cluster: a coordinator that evaluates validation and test at each epoch's end, ${String(c.psShards)} parameter-server shard(s), ${String(c.workers)} workers, ${String(c.mode)} mode)`}.`,
    '',
    `The best run of each optimizer is the one with the best validation accuracy over its epochs; its test accuracy is taken at that same evaluation. ` +
      `The generalization gap is the test loss minus that epoch's training loss (the mean mini-batch loss of the epoch's last 10% of steps, taken while training, not a separate pass). ` +
      `Steps to target: the first step at which the mean loss of a window of ${'~1%'} of the steps is ≤ ${results.targetLoss}; seconds assume every step took the same time (the run's wall time spread evenly over its steps).`,
    '',
    '## Best learning rate of each optimizer',
    '',
    markdownTable(RUN_COLUMNS, results.best),
    '',
    '## Does SGD generalize better than Adam here? (Wilson et al., 2018)',
    '',
    wilsonParagraph(results.best),
    '',
    ...plotNames.map((n) => `![${n.replace('.svg', '')}](${n})\n`),
    '## Every run',
    '',
    markdownTable(RUN_COLUMNS, results.runs),
    '',
    provenance(results.command, results.machine, results.config),
  ];
  return { 'report.md': lines.join('\n'), 'results.csv': toCsv(CSV_KEYS, results.runs), 'results.json': `${JSON.stringify(results, null, 2)}\n` };
}
