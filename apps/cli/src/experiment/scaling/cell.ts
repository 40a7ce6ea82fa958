import { join } from 'node:path';
import type { BaseJob } from '../common/job-options.js';
import { runDptrain } from '../common/run-dptrain.js';
import { sig, type TableRow } from '../common/table.js';
import type { GridCell } from './grid.js';
import { stalenessHistogram } from './staleness.js';

/** One cell's measurements; null where the run did not report the quantity. */
export interface CellResult extends TableRow {
  readonly id: string;
  readonly mode: string;
  readonly psShards: number;
  readonly microBatchSize: number;
  readonly workers: number;
  readonly processes: number;
  readonly oversubscribed: boolean;
  readonly samplesPerSecond: number | null;
  readonly computeMs: number | null;
  readonly pullMs: number | null;
  readonly pushMs: number | null;
  readonly waitMs: number | null;
  /** Counted on the wire: every byte the shards received and sent, frames whole, per step. */
  readonly wireMBPerStep: number | null;
  /** The busiest shard's wall time applying updates per step (log record, optimizer, statistics). */
  readonly applyMs: number | null;
  /** Async: accepted gradients by version lag, "n0/n1/n2…". */
  readonly staleness: string | null;
  readonly finalLoss: number | null;
  /** Each repeat's samples/s, "a/b/c"; the row's other numbers are the median repeat's. */
  readonly repeats: string | null;
  readonly error: string | null;
}

/**
 * Runs one cell `repeats` times as `dptrain local` (into `<runs>/<id>-r<k>`) and keeps the repeat
 * with the median samples/s: on a shared machine one run can fall on a busy moment.
 */
export async function runCell(job: BaseJob, cell: GridCell, runs: string, repeats: number): Promise<CellResult> {
  const results: CellResult[] = [];
  for (let k = 1; k <= repeats; k++) {
    const result = await runOnce(job, cell, join(runs, repeats === 1 ? cell.id : `${cell.id}-r${k}`));
    if (result.error !== null) return result;
    results.push(result);
  }
  const sorted = [...results].sort((a, b) => (a.samplesPerSecond ?? 0) - (b.samplesPerSecond ?? 0));
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, repeats: results.map((r) => r.samplesPerSecond).join('/') };
}

/**
 * The arguments of `dptrain local` for one cell: the base job's flags with the cell's, `--colocate`
 * for a co-located cell and `--pin-cpus` for a pinned one.
 */
export function cellArgs(job: BaseJob, cell: GridCell): string[] {
  const args = job.args({ mode: cell.mode, psShards: cell.psShards, microBatchSize: cell.microBatchSize, workers: cell.workers });
  return [...args, ...(cell.colocate ? ['--colocate'] : []), ...(cell.pinCpus ? ['--pin-cpus'] : [])];
}

async function runOnce(job: BaseJob, cell: GridCell, out: string): Promise<CellResult> {
  const base = {
    id: cell.id,
    mode: cell.mode,
    psShards: cell.psShards,
    microBatchSize: cell.microBatchSize,
    workers: cell.workers,
    processes: cell.processes,
    oversubscribed: cell.oversubscribed,
  };
  const empty = {
    repeats: null,
    samplesPerSecond: null,
    computeMs: null,
    pullMs: null,
    pushMs: null,
    waitMs: null,
    wireMBPerStep: null,
    applyMs: null,
    staleness: null,
    finalLoss: null,
  };
  try {
    const { summary, metrics } = await runDptrain({ command: 'local', args: cellArgs(job, cell), out });
    const split = summary.timingPerStepMs;
    const shards = summary.shards ?? [];
    const histogram = stalenessHistogram(shards);
    return {
      ...base,
      samplesPerSecond: summary.steadySamplesPerSecond === undefined ? null : sig(summary.steadySamplesPerSecond),
      computeMs: split ? sig(split.computeMs) : null,
      pullMs: split ? sig(split.pullMs) : null,
      pushMs: split ? sig(split.pushMs) : null,
      waitMs: split ? sig(split.waitMs) : null,
      wireMBPerStep:
        shards.length > 0 && shards.every((s) => s.bytesIn !== undefined)
          ? sig(shards.reduce((a, s) => a + s.bytesIn! + s.bytesOut!, 0) / 1e6 / summary.steps)
          : null,
      applyMs: shards.length > 0 && shards.every((s) => s.applyMs !== undefined) ? sig(Math.max(...shards.map((s) => s.applyMs!)) / summary.steps) : null,
      staleness: histogram ? histogram.join('/') : null,
      finalLoss: metrics.steps.length > 0 ? sig(metrics.steps[metrics.steps.length - 1]!.loss) : null,
      repeats: null,
      error: null,
    };
  } catch (error) {
    return { ...base, ...empty, error: (error as Error).message };
  }
}
