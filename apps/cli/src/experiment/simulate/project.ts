import type { JobDescription } from '@dptrain/job';
import type { JobConfig } from '@dptrain/config';
import { simulate, type Calibration, type Stragglers, type WireModel } from '@dptrain/simulator';
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
}

export interface ProjectionRow extends TableRow {
  /** Which question the row answers: shards, async, stragglers. */
  readonly scenario: string;
  /** The row's curve in its plot. */
  readonly series: string;
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
  readonly extraMicroBatches: number;
  readonly staleReleased: number;
  readonly wallSeconds: number;
}

interface Variant {
  readonly scenario: string;
  readonly series: string;
  readonly overrides: Partial<Pick<JobConfig, 'mode' | 'psShards' | 'staleness' | 'backupAfter' | 'backupMinMs'>>;
  readonly stragglers?: Stragglers;
}

function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** The variants of each question, in report order. */
export function variantsOf(grid: ProjectionGrid): Variant[] {
  const maxShards = Math.max(...grid.psShards);
  const s = grid.stragglers;
  const label = `stragglers ${Math.round(s.probability * 100)}% × ${s.slowdown}`;
  return [
    ...grid.psShards.map((psShards) => ({
      scenario: 'shards',
      series: `sync, ${psShards} shard${psShards > 1 ? 's' : ''}`,
      overrides: { mode: 'sync' as const, psShards, backupAfter: 0 },
    })),
    { scenario: 'async', series: 'sync, 1 shard', overrides: { mode: 'sync' as const, psShards: 1, backupAfter: 0 } },
    ...grid.staleness.map((staleness) => ({
      scenario: 'async',
      series: `async, staleness ≤ ${staleness}`,
      overrides: { mode: 'async' as const, psShards: 1, staleness, backupAfter: 0 },
    })),
    { scenario: 'stragglers', series: `no stragglers, ${maxShards} shards`, overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: 0 } },
    { scenario: 'stragglers', series: `${label}, no backups`, overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: 0 }, stragglers: s },
    {
      scenario: 'stragglers',
      series: `${label}, backups after ${grid.backupAfter}× median`,
      overrides: { mode: 'sync' as const, psShards: maxShards, backupAfter: grid.backupAfter, backupMinMs: grid.backupMinMs },
      stragglers: s,
    },
  ];
}

/**
 * Simulates every variant at every worker count: each process on its own host (one core each,
 * the calibration's CPU costs), the network from the grid's wire, the global batch growing with
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
    for (const workers of grid.workers) {
      const batchSize = workers * grid.microBatchesPerWorker * base.microBatchSize;
      const config = await job.resolve({ ...variant.overrides, workers, batchSize, steps: grid.steps });
      const described: JobDescription = { config, inputShape: facts.inputShape, numClasses: facts.numClasses, trainCount: facts.trainCount(config) };
      process.stderr.write(`simulate: projection ${v + 1}/${variants.length} ${variant.scenario}: ${variant.series}, ${workers} workers\n`);
      const key = JSON.stringify([variant.overrides, variant.stragglers ?? null, workers]);
      const r =
        done.get(key) ??
        (await simulate({
          job: described,
          calibration,
          placement: { kind: 'dedicated', cores: 1 },
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
        extraMicroBatches: r.extraMicroBatches,
        staleReleased: r.staleReleased,
        wallSeconds: sig(r.wallMs / 1000, 3),
      });
    }
  }
  return rows;
}
