import { divergencePoints, lineChart } from '../common/line-chart.js';
import type { Row } from '../common/plot.js';
import { provenance, type Machine } from '../common/report.js';
import { markdownTable, toCsv, type Column, type TableRow } from '../common/table.js';
import type { LayerNorm } from './layers.js';

export interface NormSummary extends TableRow {
  readonly norm: string;
  readonly firstLoss: number | null;
  readonly finalTrainLoss: number | null;
  readonly testAccuracy: number | null;
  /** Largest / smallest kernel gradient norm at step 1 and at the last snapshot. */
  readonly spreadAtStart: number | null;
  readonly spreadAtEnd: number | null;
  readonly maxGradNorm: number | null;
  /** The first step whose loss was not finite (the run diverged), or null. */
  readonly divergedAt: number | null;
  /** The snapshot runs' losses equal the longest run's at the same steps (one trajectory). */
  readonly sameTrajectory: boolean | null;
  readonly error: string | null;
}

export interface DepthResults {
  readonly experiment: 'depth';
  readonly command: string;
  readonly machine: Machine;
  readonly config: Record<string, unknown>;
  readonly snapshots: readonly number[];
  readonly summaries: readonly NormSummary[];
  /** Kernel gradient norms by norm variant and step. */
  readonly layers: readonly { norm: string; step: number; norms: readonly LayerNorm[] }[];
  /** The longest run of each variant: each of its first steps, then one point per window (mean loss, that step's global gradient norm). */
  readonly curves: readonly { norm: string; step: number; loss: number | null; gradNorm: number | null }[];
}

export const NORM_COLUMNS: readonly Column[] = [
  { key: 'norm', header: 'normalization' },
  { key: 'firstLoss', header: 'loss at step 1' },
  { key: 'finalTrainLoss', header: 'train loss at the end' },
  { key: 'testAccuracy', header: 'test acc.' },
  { key: 'spreadAtStart', header: 'grad-norm spread at step 1' },
  { key: 'spreadAtEnd', header: 'spread at the end' },
  { key: 'maxGradNorm', header: 'largest global grad norm' },
  { key: 'divergedAt', header: 'loss not finite from step' },
  { key: 'sameTrajectory', header: 'snapshot runs on one trajectory' },
  { key: 'error', header: 'error' },
];

const LABEL: Readonly<Record<string, string>> = { none: 'none (He init)', fixup: 'Fixup', batchnorm: 'batch norm' };

export function labelOf(norm: string): string {
  return LABEL[norm] ?? norm;
}

export async function depthPlots(results: DepthResults): Promise<Record<string, string>> {
  const byDepth: Row[] = results.layers.flatMap((l) =>
    l.norms
      .filter((n) => n.gradNorm > 0 && Number.isFinite(n.gradNorm))
      .map((n) => ({ norm: labelOf(l.norm), step: `step ${l.step}`, depth: n.depth, gradNorm: n.gradNorm })),
  );
  const last = Math.max(...results.layers.map((l) => l.step));
  const overTime: Row[] = results.layers.flatMap((l) => {
    const kernels = l.norms;
    const picks = [kernels[0], kernels[Math.floor(kernels.length / 2)], kernels[kernels.length - 1]].filter((k) => k !== undefined);
    return picks
      .filter((n) => n.gradNorm > 0 && Number.isFinite(n.gradNorm))
      .map((n) => ({ norm: labelOf(l.norm), layer: n.layer, step: l.step, gradNorm: n.gradNorm }));
  });
  const curves = results.curves.map((c) => ({ ...c, norm: labelOf(c.norm) }));
  return {
    'grad-norm-by-depth.svg': await lineChart({
      title: `Gradient norm of each weight tensor, input (0) to classifier, at steps 1…${last}`,
      rows: byDepth,
      x: { field: 'depth', title: 'layer (0 = stem)', count: true },
      y: { field: 'gradNorm', title: '‖∂loss/∂W‖', scale: 'auto' },
      series: 'step',
      column: 'norm',
      points: true,
      width: 260,
    }),
    'grad-norm-over-training.svg': await lineChart({
      title: 'Gradient norm over training: stem, middle block, classifier',
      rows: overTime,
      x: { field: 'step', title: 'step', scale: 'auto', count: true },
      y: { field: 'gradNorm', title: '‖∂loss/∂W‖', scale: 'auto' },
      series: 'layer',
      column: 'norm',
      points: true,
      width: 260,
    }),
    'loss.svg': await lineChart({
      title: 'Training loss (each of the first steps, then window means)',
      rows: curves,
      x: { field: 'step', title: 'step', count: true },
      y: { field: 'loss', title: 'training loss', scale: 'auto' },
      series: 'norm',
      divergence: true,
    }),
    'global-grad-norm.svg': await lineChart({
      title: 'Global gradient norm per step',
      rows: curves,
      x: { field: 'step', title: 'step', count: true },
      y: { field: 'gradNorm', title: '‖g‖', scale: 'auto' },
      series: 'norm',
      diverged: divergencePoints(curves, 'step', 'loss', 'norm'),
    }),
  };
}

export function depthDocuments(results: DepthResults, plotNames: readonly string[]): Record<string, string> {
  const c = results.config;
  const lines = [
    '# Depth: a deep residual network without batch norm — default init vs Fixup vs batch norm',
    '',
    `ResNet with ${String(c.blocks)} residual blocks of width ${String(c.width)} on ${String(c.dataset)}, optimizer ${String(c.optimizer)} lr ${String(c.lr)}, constant schedule, batch ${String(c.batchSize)}, seed ${String(c.seed)}, backend ${String(c.backend)}; each run is \`dptrain train\`. ` +
      `\`none\` is He initialisation with no normalization; \`fixup\` is Zhang et al.'s (2019) initialisation; \`batchnorm\` normalizes after every layer.`,
    '',
    `dptrain train records per-tensor gradient norms at step 1 and at the last step of each epoch or run; to see them at steps ${results.snapshots.join(', ')}, each variant ran once per snapshot with \`--steps\` set to it. ` +
      'With a constant learning rate the shorter runs are prefixes of the longest one (same seed, same data order, deterministic arithmetic); the table checks it by comparing their losses step by step.',
    '',
    'Spread: the largest over the smallest non-zero kernel gradient norm across the layers (1 = every layer gets the same gradient; orders of magnitude = vanishing or exploding along the depth). ' +
      "Zero norms (Fixup's zero-initialised layers at step 1) are left out of the spread and of the log-scale plots.",
    '',
    markdownTable(NORM_COLUMNS, results.summaries),
    '',
    ...plotNames.map((n) => `![${n.replace('.svg', '')}](${n})\n`),
    provenance(results.command, results.machine, results.config),
  ];
  const csvRows = results.layers.flatMap((l) => l.norms.map((n) => ({ norm: l.norm, step: l.step, layer: n.layer, depth: n.depth, gradNorm: n.gradNorm })));
  return {
    'report.md': lines.join('\n'),
    'results.csv': toCsv(['norm', 'step', 'layer', 'depth', 'gradNorm'], csvRows),
    'summary.csv': toCsv(['norm', ...NORM_COLUMNS.map((c) => c.key).filter((k) => k !== 'norm')], results.summaries),
    'results.json': `${JSON.stringify(results, null, 2)}\n`,
  };
}
