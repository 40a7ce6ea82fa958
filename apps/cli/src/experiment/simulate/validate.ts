import type { JobDescription } from '@dptrain/cluster';
import type { JobConfig } from '@dptrain/config';
import { simulate, type Calibration } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { sig, type TableRow } from '../common/table.js';
import { runCell } from '../scaling/cell.js';
import { expandGrid } from '../scaling/grid.js';

/** Predicted error above which a configuration fails validation (issue #7: within 15%). */
export const TOLERANCE = 0.15;

export interface ValidationRow extends TableRow {
  readonly id: string;
  readonly workers: number;
  readonly psShards: number;
  readonly mode: string;
  readonly measured: number | null;
  readonly repeats: string | null;
  readonly predicted: number;
  /** (predicted − measured) / measured. */
  readonly error: number | null;
  readonly withinTolerance: boolean;
  readonly measuredSplit: string | null;
  readonly predictedSplit: string;
  readonly note: string | null;
}

export interface JobFacts {
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  readonly trainCount: (config: JobConfig) => number;
}

function split(t: { computeMs: number; pullMs: number; pushMs: number; waitMs: number }): string {
  return [t.computeMs, t.pullMs, t.pushMs, t.waitMs].map((v) => v.toFixed(1)).join(' / ');
}

/**
 * The configurations that run for real here (1 and 2 workers, 1 and 2 shards, sync and async;
 * async with 2 shards is refused by the cluster), each run as `dptrain local` `repeats` times
 * (median kept, as `experiment scaling` does) and simulated with the same resolved config on one
 * host with the calibration's cores.
 */
export async function validate(job: BaseJob, facts: JobFacts, calibration: Calibration, runs: string, repeats: number, background: number): Promise<ValidationRow[]> {
  const base = await job.resolve();
  const cells = expandGrid({ workers: [1, 2], modes: ['sync', 'async'], psShards: [1, 2], microBatchSizes: [base.microBatchSize] }, calibration.cores).filter((c) => !(c.mode === 'async' && c.psShards > 1));
  const rows: ValidationRow[] = [];
  for (const [i, cell] of cells.entries()) {
    process.stderr.write(`simulate: validation ${i + 1}/${cells.length} ${cell.id}: ${repeats} real run(s), then the simulation\n`);
    const measured = await runCell(job, cell, runs, repeats);
    const config = await job.resolve({ mode: cell.mode, psShards: cell.psShards, workers: cell.workers });
    const described: JobDescription = { config, inputShape: facts.inputShape, numClasses: facts.numClasses, trainCount: facts.trainCount(config) };
    const predicted = await simulate({ job: described, calibration, placement: { kind: 'shared', cores: calibration.cores, background } });
    const error = measured.samplesPerSecond === null ? null : (predicted.samplesPerSecond - measured.samplesPerSecond) / measured.samplesPerSecond;
    rows.push({
      id: cell.id,
      workers: cell.workers,
      psShards: cell.psShards,
      mode: cell.mode,
      measured: measured.samplesPerSecond,
      repeats: measured.repeats,
      predicted: sig(predicted.samplesPerSecond),
      error: error === null ? null : sig(error, 3),
      withinTolerance: error !== null && Math.abs(error) <= TOLERANCE,
      measuredSplit: measured.computeMs === null ? null : split({ computeMs: measured.computeMs, pullMs: measured.pullMs ?? 0, pushMs: measured.pushMs ?? 0, waitMs: measured.waitMs ?? 0 }),
      predictedSplit: split(predicted.timing),
      note: measured.error,
    });
  }
  return rows;
}

