import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { JobConfig } from '@dptrain/config';
import { clusterRuleViolations } from '@dptrain/job';
import { BaseJob, withBaseJobFlags } from '../common/job-options.js';
import { intList, nameList, positiveInt } from '../common/lists.js';
import { finish, invocation, machineNow, writeFiles } from '../common/report.js';
import { sig } from '../common/table.js';
import { runCell } from './cell.js';
import { ddpUnavailable, runDdp } from './ddp.js';
import { scaleAgainstOneWorker } from './efficiency.js';
import { expandGrid } from './grid.js';
import { scalingDocuments, scalingPlots, type DdpRow, type ScalingResults, type ScalingRow } from './report.js';

const VARIED = ['workers', 'mode', 'psShards', 'microBatchSize'];
const DEFAULTS = { steps: '100', backend: 'wasm' };

/**
 * `dptrain experiment scaling`: the same job over a grid of workers × mode × shards × micro-batch
 * size, each cell a real `dptrain local` run, then the PyTorch DDP anchor; writes the report.
 *
 *   dptrain experiment scaling --workers 1,2,4 --mode sync,async --ps-shards 1,2 --out runs/experiments/scaling
 */
export function registerScaling(group: Command): void {
  const command = group
    .command('scaling')
    .description(
      'the same job over workers × mode × shards × micro-batch size as real `dptrain local` runs, with the PyTorch DDP anchor; writes report.md, results.csv/json and SVG plots',
    )
    .addOption(new Option('--workers <list>', 'worker counts').default('1,2,4'))
    .addOption(new Option('--mode <list>', 'sync, async or both').default('sync,async'))
    .addOption(new Option('--ps-shards <list>', 'parameter-server shard counts').default('1,2'))
    .addOption(new Option('--micro-batch-size <list>', 'micro-batch sizes (each divides --batch-size)').default('16'))
    .addOption(new Option('--repeats <n>', 'runs per cell; the row is the one with the median samples/s').default('1'))
    .addOption(new Option('--no-ddp', 'skip the PyTorch DDP anchor'))
    .addOption(new Option('--out <dir>', 'experiment folder: report, results, plots, and runs/<cell>/').default('runs/experiments/scaling'));
  withBaseJobFlags(command, VARIED, DEFAULTS).action(async (options: Record<string, string | boolean | undefined>) => {
    const grid = {
      workers: intList('--workers', String(options.workers)),
      modes: nameList('--mode', String(options.mode), ['sync', 'async'] as const),
      psShards: intList('--ps-shards', String(options.psShards)),
      microBatchSizes: intList('--micro-batch-size', String(options.microBatchSize)),
    };
    const out = String(options.out);
    const job = new BaseJob(options, DEFAULTS, options.config as string | undefined);
    const machine = machineNow();
    const repeats = positiveInt('--repeats', String(options.repeats));
    const all = expandGrid(grid, machine.cores);
    // Every cell's config is checked before the first run, so a bad value fails at once; the
    // combinations the cluster refuses by design are listed in the report instead of run.
    const configs = await Promise.all(
      all.map((c) => job.resolve({ mode: c.mode, psShards: c.psShards, microBatchSize: c.microBatchSize, workers: c.workers })),
    );
    const refused = all.flatMap((c, i) => {
      const reason = clusterRefusal(configs[i]!);
      return reason === undefined ? [] : [{ id: c.id, reason }];
    });
    const cells = all.filter((c) => !refused.some((r) => r.id === c.id));
    const config = configs[0]!;
    const measured = [];
    for (const [i, cell] of cells.entries()) {
      process.stderr.write(`scaling: cell ${i + 1}/${cells.length} ${cell.id}${cell.oversubscribed ? ' (oversubscribed)' : ''}\n`);
      measured.push({ ...(await runCell(job, cell, join(out, 'runs'), repeats)), series: cell.series });
    }
    const scaled = scaleAgainstOneWorker(measured);
    const rows: ScalingRow[] = measured.map((m, i) => ({
      ...m,
      speedup: nullSig(scaled[i]!.speedup),
      efficiency: nullSig(scaled[i]!.efficiency),
      ideal: nullSig(scaled[i]!.ideal),
    }));

    const ddpSeries = cells.find((c) => c.mode === 'sync' && c.psShards === grid.psShards[0] && c.microBatchSize === grid.microBatchSizes[0])?.series ?? null;
    const request = { model: config.model, dataset: config.dataset, batchSize: config.batchSize, steps: config.steps ?? 100, seed: config.seed };
    const skipped = options.ddp === false ? 'turned off with --no-ddp' : ddpUnavailable(request);
    let ddp: DdpRow[] | { skipped: string };
    if (skipped) {
      ddp = { skipped };
      process.stderr.write(`scaling: DDP anchor skipped: ${skipped}\n`);
    } else {
      ddp = [];
      for (const workers of grid.workers) {
        process.stderr.write(`scaling: PyTorch DDP with ${workers} process(es)\n`);
        const outcome = await runDdp(request, workers);
        const dptrain = rows.find((r) => r.series === ddpSeries && r.workers === workers)?.samplesPerSecond ?? null;
        ddp.push({
          workers,
          processes: workers,
          oversubscribed: workers > machine.cores,
          dptrainSamplesPerSecond: dptrain,
          ddpSamplesPerSecond: outcome.ok ? sig(outcome.samplesPerSecond) : null,
          note: outcome.ok ? outcome.note : outcome.reason,
        });
      }
    }
    const results: ScalingResults = {
      experiment: 'scaling',
      command: invocation(),
      machine: finish(machine),
      config: sharedConfig(config),
      cells: rows,
      refused,
      repeats,
      ddp,
      ddpSeries: Array.isArray(ddp) ? ddpSeries : null,
    };
    const plots = await scalingPlots(results);
    await writeFiles(out, { ...plots, ...scalingDocuments(results, Object.keys(plots)) });
    process.stderr.write(`scaling: report in ${join(out, 'report.md')}\n`);
  });
}

function clusterRefusal(config: JobConfig): string | undefined {
  const violations = clusterRuleViolations(config);
  return violations.length > 0 ? violations.join('\n') : undefined;
}

function nullSig(value: number | null): number | null {
  return value === null ? null : sig(value);
}

/** The job keys every cell shares: the varied ones and the run folder are each cell's own. */
function sharedConfig(config: Record<string, unknown>): Record<string, unknown> {
  const shared = { ...config };
  for (const key of [...VARIED, 'out']) delete shared[key];
  return shared;
}
