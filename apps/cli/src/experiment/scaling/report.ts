import { lineChart } from '../common/line-chart.js';
import { stackedBars, type Row } from '../common/plot.js';
import { provenance, type Machine } from '../common/report.js';
import { markdownTable, toCsv, type Column, type TableRow } from '../common/table.js';

/** A cell's row with its speedup and efficiency against the same series with one worker. */
export type ScalingRow = TableRow & {
  id: string;
  series: string;
  mode: string;
  workers: number;
  processes: number;
  oversubscribed: boolean;
  samplesPerSecond: number | null;
  speedup: number | null;
  efficiency: number | null;
  ideal: number | null;
};

export interface DdpRow extends TableRow {
  readonly workers: number;
  readonly processes: number;
  readonly oversubscribed: boolean;
  readonly dptrainSamplesPerSecond: number | null;
  readonly ddpSamplesPerSecond: number | null;
  readonly note: string | null;
}

export interface ScalingResults {
  readonly experiment: 'scaling';
  readonly command: string;
  readonly machine: Machine;
  readonly config: Record<string, unknown>;
  readonly cells: readonly ScalingRow[];
  /** Combinations the cluster refuses at start-up (e.g. async with several shards): not run. */
  readonly refused: readonly { readonly id: string; readonly reason: string }[];
  readonly repeats: number;
  /** The DDP rows, or why the anchor did not run. */
  readonly ddp: readonly DdpRow[] | { readonly skipped: string };
  /** The series the DDP rows compare against (sync, one shard, the first micro-batch size). */
  readonly ddpSeries: string | null;
}

export const CELL_COLUMNS: readonly Column[] = [
  { key: 'id', header: 'cell' },
  { key: 'processes', header: 'processes' },
  { key: 'oversubscribed', header: 'oversubscribed' },
  { key: 'samplesPerSecond', header: 'samples/s (steady)' },
  { key: 'repeats', header: 'samples/s of each repeat' },
  { key: 'speedup', header: 'speedup vs 1 worker' },
  { key: 'efficiency', header: 'efficiency' },
  { key: 'computeMs', header: 'compute ms/step' },
  { key: 'pullMs', header: 'pull ms/step' },
  { key: 'pushMs', header: 'push ms/step' },
  { key: 'waitMs', header: 'wait ms/step' },
  { key: 'applyMs', header: 'server apply ms/step' },
  { key: 'wireMBPerStep', header: 'wire MB/step (counted)' },
  { key: 'staleness', header: 'staleness histogram' },
  { key: 'finalLoss', header: 'last step loss' },
  { key: 'error', header: 'error' },
];

export const DDP_COLUMNS: readonly Column[] = [
  { key: 'workers', header: 'processes training' },
  { key: 'oversubscribed', header: 'oversubscribed' },
  { key: 'dptrainSamplesPerSecond', header: 'dptrain samples/s' },
  { key: 'ddpSamplesPerSecond', header: 'PyTorch DDP samples/s' },
  { key: 'note', header: 'note' },
];

const CSV_KEYS = [
  'id',
  'mode',
  'psShards',
  'microBatchSize',
  'workers',
  'processes',
  'oversubscribed',
  'samplesPerSecond',
  'speedup',
  'efficiency',
  'ideal',
  'computeMs',
  'pullMs',
  'pushMs',
  'waitMs',
  'applyMs',
  'wireMBPerStep',
  'staleness',
  'finalLoss',
  'repeats',
  'error',
];
const PHASES = ['compute', 'pull', 'push', 'wait'] as const;

/** The plots of the report, by file name. */
export async function scalingPlots(results: ScalingResults): Promise<Record<string, string>> {
  const measured = results.cells.filter((c) => c.samplesPerSecond !== null);
  const throughput: Row[] = measured.map((c) => ({ series: c.series, mode: c.mode, workers: c.workers, samplesPerSecond: c.samplesPerSecond }));
  const ideal: Row[] = results.cells
    .filter((c) => c.ideal !== null)
    .map((c) => ({ series: c.series, mode: c.mode, workers: c.workers, samplesPerSecond: c.ideal }));
  const workers = { field: 'workers', title: 'workers', count: true } as const;
  const plots: Record<string, string> = {
    'throughput.svg': await lineChart({
      title: 'Throughput vs workers',
      rows: throughput,
      x: workers,
      y: { field: 'samplesPerSecond', title: 'samples/s (steady)' },
      series: 'series',
      column: 'mode',
      points: true,
      reference: { rows: ideal, label: 'ideal: one worker × workers' },
    }),
    'efficiency.svg': await lineChart({
      title: 'Scaling efficiency (speedup / workers)',
      rows: measured.filter((c) => c.efficiency !== null).map((c) => ({ series: c.series, mode: c.mode, workers: c.workers, efficiency: c.efficiency })),
      x: workers,
      y: { field: 'efficiency', title: 'efficiency' },
      series: 'series',
      column: 'mode',
      points: true,
    }),
    'time-split.svg': await stackedBars({
      title: "Average worker's time per step",
      rows: measured.flatMap((c) => PHASES.map((phase) => ({ cell: c.id, phase, ms: c[`${phase}Ms`] as number | null }))),
      category: { field: 'cell', title: 'cell', order: measured.map((c) => c.id) },
      value: { field: 'ms', title: 'ms per step' },
      stack: 'phase',
      stackOrder: [...PHASES],
    }),
  };
  if (Array.isArray(results.ddp)) {
    const rows = (results.ddp as readonly DdpRow[]).flatMap((r) => [
      ...(r.dptrainSamplesPerSecond === null
        ? []
        : [{ system: `dptrain (${results.ddpSeries})`, workers: r.workers, samplesPerSecond: r.dptrainSamplesPerSecond }]),
      ...(r.ddpSamplesPerSecond === null ? [] : [{ system: 'PyTorch DDP (gloo)', workers: r.workers, samplesPerSecond: r.ddpSamplesPerSecond }]),
    ]);
    plots['ddp.svg'] = await lineChart({
      title: 'dptrain vs PyTorch DDP, same model and global batch',
      rows,
      x: { ...workers, title: 'training processes' },
      y: { field: 'samplesPerSecond', title: 'samples/s' },
      series: 'system',
      points: true,
    });
  }
  return plots;
}

/** report.md, results.csv and results.json. */
export function scalingDocuments(results: ScalingResults, plotNames: readonly string[]): Record<string, string> {
  const over = results.cells.filter((c) => c.oversubscribed).length;
  const config = results.config;
  const lines = [
    '# Scaling: `dptrain local` over workers, mode, shards and micro-batch size',
    '',
    `Model ${String(config.model)} on ${String(config.dataset)}, global batch ${String(config.batchSize)}, ${String(config.steps)} steps per run, optimizer ${String(config.optimizer)}, backend ${String(config.backend)}, seed ${String(config.seed)}. ` +
      'Each cell is one real `dptrain local` run (coordinator, shards and workers as processes on this machine). ' +
      "samples/s is the coordinator's steady-state rate (the steps after the first 10%, evaluation excluded, median of 5 rounds); the time split is the average worker's milliseconds per step.",
    '',
    over > 0
      ? `**${over} of ${results.cells.length} cells are oversubscribed**: their processes (coordinator + shards + workers) outnumber the ${results.machine.cores} cores, so they take turns on the cores and a change in their throughput is contention, not scaling.`
      : `No cell has more processes than the ${results.machine.cores} cores.`,
    '',
    markdownTable(CELL_COLUMNS, results.cells),
    '',
    ...(results.repeats > 1 ? [`Each cell ran ${results.repeats} times; its row is the repeat with the median samples/s.`, ''] : []),
    ...(results.refused.length > 0 ? ['Not run, refused by the cluster at start-up:', '', ...results.refused.map((r) => `- ${r.id}: ${r.reason}`), ''] : []),
    "Wire MB/step counts every frame the shards received and sent (all their connections: workers' pushes and pulls, and the coordinator's status and evaluation traffic), headers included. Server apply ms/step is the busiest shard's wall time in its live updates (write-ahead-log record, previous-point copy, optimizer, batch-norm statistics); the workers wait through it inside their pull, so it is not stacked with their split. The staleness histogram counts accepted gradients by their version lag (async only).",
    '',
    ...plotNames.filter((n) => n !== 'ddp.svg').map((n) => `![${n.replace('.svg', '')}](${n})\n`),
    '## Anchor: PyTorch DistributedDataParallel',
    '',
  ];
  if (Array.isArray(results.ddp)) {
    lines.push(
      `The same model and global batch on PyTorch processes (one thread each, gloo, Adam lr 0.001; bench/cluster/torch_ddp.py), against dptrain's ${results.ddpSeries} cells. DDP has no coordinator or parameter server: its processes are only the trainers.`,
      '',
      markdownTable(DDP_COLUMNS, results.ddp as readonly DdpRow[]),
      '',
      '![ddp](ddp.svg)',
      '',
    );
  } else {
    lines.push(`Skipped: ${(results.ddp as { skipped: string }).skipped}.`, '');
  }
  lines.push(provenance(results.command, results.machine, results.config));
  return { 'report.md': lines.join('\n'), 'results.csv': toCsv(CSV_KEYS, results.cells), 'results.json': `${JSON.stringify(results, null, 2)}\n` };
}
