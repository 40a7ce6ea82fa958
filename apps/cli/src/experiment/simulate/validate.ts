import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import type { JobDescription } from '@dptrain/job';
import type { JobConfig } from '@dptrain/config';
import { simulate, type Calibration, type Layout } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { sig, type TableRow } from '../common/table.js';
import { runCell, type CellResult } from '../scaling/cell.js';
import { colocatedCell, expandGrid, type GridCell } from '../scaling/grid.js';
import { BackgroundMeter } from './background.js';

/** Predicted error above which a configuration fails validation (issue #7: within 15%). */
export const TOLERANCE = 0.15;

export interface ValidationRow extends TableRow {
  readonly id: string;
  readonly layout: Layout;
  readonly workers: number;
  readonly psShards: number;
  readonly mode: string;
  readonly measured: number | null;
  readonly repeats: string | null;
  /** Cores other work kept busy during the kept run (BackgroundMeter), taken as that many busy processes. */
  readonly background: number | null;
  /** Predicted with that background load. */
  readonly predicted: number;
  /** Predicted with no other load. */
  readonly predictedQuiet: number;
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

/** One configuration to predict: a validation cell, or the row of an earlier validation. */
export interface Configuration {
  readonly mode: string;
  readonly psShards: number;
  readonly workers: number;
  readonly layout: Layout;
}

/**
 * The configurations that run for real: 1 and 2 workers with 1 and 2 shard processes, sync and
 * async (async with 2 shards is refused by the cluster), then the co-located layout (`dptrain
 * local --colocate`, a shard in each worker) in sync mode with 1 and 2 workers.
 */
export function validationCells(microBatchSize: number, cores: number): GridCell[] {
  const separate = expandGrid({ workers: [1, 2], modes: ['sync', 'async'], psShards: [1, 2], microBatchSizes: [microBatchSize] }, cores).filter(
    (c) => !(c.mode === 'async' && c.psShards > 1),
  );
  return [...separate, ...[1, 2].map((workers) => colocatedCell('sync', microBatchSize, workers, cores))];
}

/** The layout a cell runs in. */
export function layoutOf(cell: GridCell): Layout {
  return cell.colocate ? 'colocated' : 'separate';
}

/**
 * The configurations of validationCells run for real here. Each runs as `dptrain local` (with
 * `--colocate` for a co-located one) `repeats` times while the other load on the machine is
 * sampled; each run is simulated with the same resolved config and layout on one host of the
 * calibration's cores with that measured background, and the row keeps the run with the median
 * measured samples/s next to its own prediction (and the prediction for a quiet machine). `background` overrides the measured load when given; `priority` is the nice
 * value the runs get (raisePriority).
 */
export async function validate(
  job: BaseJob,
  facts: JobFacts,
  calibration: Calibration,
  runs: string,
  repeats: number,
  background: number | undefined,
  priority: number,
): Promise<ValidationRow[]> {
  const restore = raisePriority(priority);
  try {
    return await validateAll(job, facts, calibration, runs, repeats, background);
  } finally {
    restore();
  }
}

/**
 * Runs this process, and so the real runs it starts (children inherit it), at nice `priority`,
 * so that other work on a shared machine takes less from them. Where raising it is not allowed, says so
 * and runs at the normal priority. Returns the undo.
 */
function raisePriority(priority: number): () => void {
  const before = getPriority();
  if (priority === before) return () => undefined;
  try {
    setPriority(priority);
  } catch (error) {
    process.stderr.write(`simulate: cannot run the real runs at nice ${priority} (${(error as Error).message}); they run at nice ${before}\n`);
    return () => undefined;
  }
  return () => setPriority(before);
}

/** The resolved job of one validation configuration. */
async function describe(job: BaseJob, facts: JobFacts, cell: Configuration): Promise<JobDescription> {
  const config = await job.resolve({ mode: cell.mode, psShards: cell.psShards, workers: cell.workers });
  return { config, inputShape: facts.inputShape, numClasses: facts.numClasses, trainCount: facts.trainCount(config) };
}

/** Simulates one configuration on one host of the calibration's cores with `load` other busy threads, in the configuration's layout. */
export async function predictor(job: BaseJob, facts: JobFacts, calibration: Calibration, cell: Configuration) {
  const described = await describe(job, facts, cell);
  return (load: number) =>
    simulate({ job: described, calibration, layout: cell.layout, placement: { kind: 'shared', cores: calibration.cores, background: load } });
}

async function validateAll(
  job: BaseJob,
  facts: JobFacts,
  calibration: Calibration,
  runs: string,
  repeats: number,
  background: number | undefined,
): Promise<ValidationRow[]> {
  const base = await job.resolve();
  const cells = validationCells(base.microBatchSize, calibration.cores);
  const rows: ValidationRow[] = [];
  for (const [i, cell] of cells.entries()) {
    const layout = layoutOf(cell);
    const predict = await predictor(job, facts, calibration, { ...cell, layout });
    const quiet = await predict(0);
    const pairs: { measured: CellResult; load: number | undefined; predicted: number; split: string }[] = [];
    for (let k = 1; k <= repeats; k++) {
      process.stderr.write(`simulate: validation ${i + 1}/${cells.length} ${cell.id}, real run ${k}/${repeats}\n`);
      const meter = new BackgroundMeter(calibration.cores);
      const measured = await runCell(job, cell, repeats === 1 ? runs : join(runs, `r${k}`), 1);
      const sampled = meter.stop();
      const load = background ?? sampled;
      const predicted = load === undefined || load === 0 ? quiet : await predict(load);
      pairs.push({ measured, load, predicted: predicted.samplesPerSecond, split: split(predicted.timing) });
      if (measured.error !== null) break;
    }
    pairs.sort((a, b) => (a.measured.samplesPerSecond ?? 0) - (b.measured.samplesPerSecond ?? 0));
    const kept = pairs[Math.floor((pairs.length - 1) / 2)]!;
    const m = kept.measured;
    rows.push(
      judged({
        id: cell.id,
        layout,
        workers: cell.workers,
        psShards: cell.psShards,
        mode: cell.mode,
        measured: m.samplesPerSecond,
        repeats: pairs.map((p) => `${p.measured.samplesPerSecond ?? '—'} (${p.load?.toFixed(2) ?? '?'})`).join(' / '),
        background: kept.load === undefined ? null : sig(kept.load, 3),
        predicted: sig(kept.predicted),
        predictedQuiet: sig(quiet.samplesPerSecond),
        measuredSplit: m.computeMs === null ? null : split({ computeMs: m.computeMs, pullMs: m.pullMs ?? 0, pushMs: m.pushMs ?? 0, waitMs: m.waitMs ?? 0 }),
        predictedSplit: kept.split,
        note: m.error,
      }),
    );
  }
  return rows;
}

/** A row with its error and verdict filled in from its measured and predicted rates. */
function judged(
  row: Pick<
    ValidationRow,
    | 'id'
    | 'layout'
    | 'workers'
    | 'psShards'
    | 'mode'
    | 'measured'
    | 'repeats'
    | 'background'
    | 'predicted'
    | 'predictedQuiet'
    | 'measuredSplit'
    | 'predictedSplit'
    | 'note'
  >,
): ValidationRow {
  const error = row.measured === null ? null : (row.predicted - row.measured) / row.measured;
  return { ...row, error: error === null ? null : sig(error, 3), withinTolerance: error !== null && Math.abs(error) <= TOLERANCE };
}

/**
 * Predicts the real runs of an earlier validation again with this model and calibration: the
 * measured rates, splits and background load stay as they were measured; the predictions, the
 * errors and the verdicts are this run's (`--reuse-validation`).
 */
export async function repredict(job: BaseJob, facts: JobFacts, calibration: Calibration, rows: readonly ValidationRow[]): Promise<ValidationRow[]> {
  const out: ValidationRow[] = [];
  for (const row of rows) {
    process.stderr.write(`simulate: predicting ${row.id} again\n`);
    const predict = await predictor(job, facts, calibration, row);
    const quiet = await predict(0);
    const predicted = row.background ? await predict(row.background) : quiet;
    out.push(
      judged({ ...row, predicted: sig(predicted.samplesPerSecond), predictedQuiet: sig(quiet.samplesPerSecond), predictedSplit: split(predicted.timing) }),
    );
  }
  return out;
}
