import type { JobDescription } from '@dptrain/job';
import type { JobConfig } from '@dptrain/config';
import { simulate, type Calibration, type Layout, type Stragglers, type WireModel } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { sig, type TableRow } from '../common/table.js';
import type { JobFacts } from './validate.js';

export interface ProjectionGrid {
  readonly workers: readonly number[];
  readonly psShards: readonly number[];
  readonly staleness: readonly number[];
  readonly backupAfter: number;
  /** The backup variant's backupMinMs (the job's default, 500 ms, is longer than any lease of these runs). */
  readonly backupMinMs: number;
  readonly stragglers: Stragglers;
  readonly wire: WireModel;
  readonly steps: number;
  /** Micro-batches per worker per step: the global batch grows with the workers (weak scaling). */
  readonly microBatchesPerWorker: number;
  /** Virtual seconds a run may take before it is reported unfinished (with the rate of the steps it closed). */
  readonly limitSeconds: number;
  /**
   * The layouts projected: `separate` (shard processes) answers every question; `colocated` (a
   * shard in each worker, `dptrain local --colocate`) joins the shards question.
   */
  readonly layouts: readonly Layout[];
  /** The co-located layout up to this many workers only: N workers have N shards, so a run simulates N² connections. */
  readonly colocatedMaxWorkers: number;
}

export interface ProjectionRow extends TableRow {
  /** Which question the row answers: shards, async, stragglers. */
  readonly scenario: string;
  /** The row's curve in its plot. */
  readonly series: string;
  readonly layout: Layout;
  readonly workers: number;
  readonly psShards: number;
  readonly mode: string;
  readonly staleness: number | null;
  readonly backupAfter: number;
  /** Backup leases only for leases that ran at least this long (milliseconds). */
  readonly backupMinMs: number;
  readonly stragglers: boolean;
  readonly batchSize: number;
  readonly samplesPerSecond: number;
  /** samples/s over workers × one worker's compute-bound rate (micro-batch / median compute). */
  readonly efficiency: number;
  readonly finished: boolean;
  readonly stepP50Ms: number;
  readonly stepP99Ms: number;
  readonly busiestShard: number;
  /** Megabytes every link together carried per step (frames whole); a co-located worker's traffic with its own shard stays off them. */
  readonly networkMBPerStep: number;
  readonly extraMicroBatches: number;
  readonly staleReleased: number;
  readonly wallSeconds: number;
}

interface Variant {
  readonly scenario: string;
  readonly series: string;
  /** Co-located variants have as many shards as workers, set per worker count. */
  readonly layout: Layout;
  readonly overrides: Partial<Pick<JobConfig, 'mode' | 'psShards' | 'staleness' | 'backupAfter' | 'backupMinMs'>>;
  readonly stragglers?: Stragglers;
}

function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** The series of the co-located layout in the shards question. */
export const COLOCATED_SERIES = 'sync, co-located (a shard in each worker)';

/** The variants of each question, in report order. */
export function variantsOf(grid: ProjectionGrid): Variant[] {
  const maxShards = Math.max(...grid.psShards);
  const s = grid.stragglers;
  const label = `stragglers ${Math.round(s.probability * 100)}% × ${s.slowdown}`;
  const layout = 'separate' as const;
  const separate: Variant[] = [
    ...grid.psShards.map((psShards) => ({
      scenario: 'shards',
      series: `sync, ${psShards} shard${psShards > 1 ? 's' : ''}`,
      layout,
      overrides: { mode: 'sync' as const, psShards, backupAfter: 0 },
    })),
    { scenario: 'async', series: 'sync, 1 shard', layout, overrides: { mode: 'sync' as const, psShards: 1, backupAfter: 0 } },
    ...grid.staleness.map((staleness) => ({
      scenario: 'async',
      series: `async, staleness ≤ ${staleness}`,
      layout,
      overrides: { mode: 'async' as const, psShards: 1, staleness, backupAfter: 0 },
    })),
    {
      scenario: 'stragglers',
      series: `no stragglers, ${maxShards} shards`,
      layout,
      overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: 0 },
    },
    {
      scenario: 'stragglers',
      series: `${label}, no backups`,
      layout,
      overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: 0 },
      stragglers: s,
    },
    {
      scenario: 'stragglers',
      series: `${label}, backups after ${grid.backupAfter}× median`,
      layout,
      overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: grid.backupAfter, backupMinMs: grid.backupMinMs },
      stragglers: s,
    },
  ];
  const colocated: Variant = { scenario: 'shards', series: COLOCATED_SERIES, layout: 'colocated', overrides: { mode: 'sync', backupAfter: 0 } };
  const withSeparate = grid.layouts.includes('separate') ? separate : [];
  // The co-located series comes right after the separate layout's shard counts, in the same table.
  const shardsEnd = withSeparate.filter((v) => v.scenario === 'shards').length;
  return grid.layouts.includes('colocated') ? [...withSeparate.slice(0, shardsEnd), colocated, ...withSeparate.slice(shardsEnd)] : withSeparate;
}

/**
 * Simulates every variant at every worker count (the co-located one up to colocatedMaxWorkers):
 * each process on its own host (one core each, the calibration's CPU costs; a co-located worker's
 * shard thread shares its worker's), the network from the grid's wire, the global batch growing with
 * the workers. A run that cannot finish within the grid's virtual time limit (async with most
 * pushes stale) is reported with the rate of the steps it closed and `finished` false.
 */
export async function project(job: BaseJob, facts: JobFacts, calibration: Calibration, grid: ProjectionGrid): Promise<ProjectionRow[]> {
  const base = await job.resolve();
  const computeBound = (base.microBatchSize * 1000) / quantile(calibration.computeMs, 0.5);
  const grads = new Float32Array(calibration.model.paramCount).fill(1e-3);
  const rows: ProjectionRow[] = [];
  const variants = variantsOf(grid);
  // The same configuration in two questions (sync with one shard) is simulated once.
  const done = new Map<string, Awaited<ReturnType<typeof simulate>>>();
  for (const [v, variant] of variants.entries()) {
    const colocated = variant.layout === 'colocated';
    for (const workers of grid.workers) {
      if (colocated && workers > grid.colocatedMaxWorkers) continue;
      const batchSize = workers * grid.microBatchesPerWorker * base.microBatchSize;
      const overrides = colocated ? { ...variant.overrides, psShards: workers } : variant.overrides;
      const config = await job.resolve({ ...overrides, workers, batchSize, steps: grid.steps });
      const described: JobDescription = { config, inputShape: facts.inputShape, numClasses: facts.numClasses, trainCount: facts.trainCount(config) };
      process.stderr.write(`simulate: projection ${v + 1}/${variants.length} ${variant.scenario}: ${variant.series}, ${workers} workers\n`);
      const key = JSON.stringify([variant.layout, overrides, variant.stragglers ?? null, workers]);
      const r =
        done.get(key) ??
        (await simulate({
          job: described,
          calibration,
          placement: { kind: 'dedicated', cores: 1 },
          layout: variant.layout,
          wire: grid.wire,
          stragglers: variant.stragglers,
          grads,
          limitMs: grid.limitSeconds * 1000,
        }));
      done.set(key, r);
      const steady = r.stepMs.slice(Math.max(1, Math.floor(r.stepMs.length / 10)));
      rows.push({
        scenario: variant.scenario,
        series: variant.series,
        layout: variant.layout,
        workers,
        psShards: config.psShards,
        mode: config.mode,
        staleness: config.mode === 'async' ? config.staleness : null,
        backupAfter: config.backupAfter,
        backupMinMs: config.backupMinMs,
        stragglers: variant.stragglers !== undefined,
        batchSize,
        samplesPerSecond: sig(r.overallSamplesPerSecond),
        efficiency: sig(r.overallSamplesPerSecond / (workers * computeBound), 3),
        finished: r.finished,
        stepP50Ms: sig(quantile(steady, 0.5), 3),
        stepP99Ms: sig(quantile(steady, 0.99), 3),
        busiestShard: sig(Math.max(...r.shardBusy), 3),
        networkMBPerStep: sig(r.network.bytes / 1e6 / Math.max(1, r.steps), 3),
        extraMicroBatches: r.extraMicroBatches,
        staleReleased: r.staleReleased,
        wallSeconds: sig(r.wallMs / 1000, 3),
      });
    }
  }
  return rows;
}
