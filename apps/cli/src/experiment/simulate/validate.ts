import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { pinnedCores, type JobDescription } from '@dptrain/job';
import type { JobConfig } from '@dptrain/config';
import { simulate, type Calibration, type Layout, type SimulationOptions, type SimulationResult } from '@dptrain/simulator';
import type { BaseJob } from '../common/job-options.js';
import { sig } from '../common/table.js';
import { runCell, type CellResult } from '../scaling/cell.js';
import { colocatedCell, expandGrid, type GridCell } from '../scaling/grid.js';
import { BackgroundMeter } from './background.js';
import type { RoundCalibration } from './round-calibration.js';
import { RunCpuSampler, type RunCpu } from './run-cpu.js';
import { simulationTrace } from './simulation-trace.js';
import { describeCoreIdle, modelIdleByCore } from './core-idle.js';
import { allowedCpus } from '../../cluster/cpu-affinity.js';
import { cpuShares, errorAtRunSpeed, judge, median, runStats, typicalBackground, type CpuByRole, type RealRun, type Verdict } from './judge.js';

/**
 * One configuration's row: the median of its real runs with their interval and spread, its
 * prediction, and the verdict of judge.ts.
 */
export type ValidationCells = {
  readonly id: string;
  readonly layout: Layout;
  readonly workers: number;
  readonly psShards: number;
  readonly mode: string;
  /** The real runs had each process pinned to a CPU (`dptrain local --pin-cpus`), and the prediction pins them alike. */
  readonly pinned: boolean;
  /** Median samples/s of the real runs that gave a rate (null when none did). */
  readonly measured: number | null;
  /** Least and greatest samples/s of those runs. */
  readonly min: number | null;
  readonly max: number | null;
  /** (max − min) / measured. */
  readonly spread: number | null;
  /** Each real run's samples/s and (background), for the report. */
  readonly repeats: string | null;
  /** Cores other work kept busy, the median over the runs (BackgroundMeter), taken as that many busy processes. */
  readonly background: number | null;
  /** Predicted with that background load. */
  readonly predicted: number;
  /** Predicted with no other load. */
  readonly predictedQuiet: number;
  /** (predicted − measured) / measured. */
  readonly error: number | null;
  readonly verdict: Verdict;
  /** CPU ms per steady step of all the run's processes: the runs' median (least–greatest), and what the model charges. */
  readonly cpuPerStep: string | null;
  /** The runs' median CPU per step over the model's: how much slower than calibrated the machine ran them (or what CPU the model misses). */
  readonly cpuRatio: number | null;
  /** Worker / shard / coordinator share of the CPU per step in percent: the runs' median, then the model's (cpuShares). */
  readonly cpuShares: string | null;
  /** Each core's idle ms per step: the runs' (median, core by core) vs the model's (core-idle.ts); null without /proc or on dedicated machines. */
  readonly coreIdle: string | null;
  /** errorAtRunSpeed (judge.ts): the error with each run's machine speed taken out, median and (least–greatest). */
  readonly errorAtRunSpeed: string | null;
  /** That error judged as the raw one is (judge.ts); null without CPU figures. Not the validation's verdict. */
  readonly verdictAtRunSpeed: Verdict | null;
  /** The run closest to the median: its compute / pull / push / wait ms per step. */
  readonly measuredSplit: string | null;
  readonly predictedSplit: string;
  readonly note: string | null;
};

export type ValidationRow = ValidationCells & {
  /** Every real run, in the order they ran. */
  readonly runs: readonly RealRun[];
};

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
  /** Each process on the core pinnedCores gives it; otherwise any core. */
  readonly pinned?: boolean;
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

/** How the real runs of a validation are made. */
export interface RealRunOptions {
  /** Where their run folders go. */
  readonly runs: string;
  readonly repeats: number;
  /** Overrides the measured other load, in busy processes. */
  readonly background: number | undefined;
  /** The nice value the runs get (raisePriority). */
  readonly priority: number;
  /** Each process pinned to a CPU (`dptrain local --pin-cpus`), so each run shares the cores alike. */
  readonly pinCpus: boolean;
  /** Where each configuration's judged simulation records its spans (simulationTrace), if anywhere. */
  readonly trace?: string;
}

/**
 * The configurations of validationCells run for real here. Each runs as `dptrain local` (with
 * `--colocate` for a co-located one, `--pin-cpus` when pinned) `repeats` times while the other
 * load on the machine is sampled, `source` measuring the machine before each round when its
 * calibrations are taken among them; each is simulated with the same resolved config, layout and
 * pinning on one host of the calibration's cores with the median of its runs' background (and on
 * a quiet machine), and judged against the median of its runs (judge.ts).
 */
export async function validate(job: BaseJob, facts: JobFacts, source: RoundCalibration, options: RealRunOptions): Promise<ValidationRow[]> {
  const restore = raisePriority(options.priority);
  try {
    return await validateAll(job, facts, source, options);
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

/**
 * Simulates one configuration on one host of the calibration's cores with `load` other busy
 * threads, in the configuration's layout, its processes pinned as `dptrain local --pin-cpus` pins
 * them when the configuration is pinned.
 */
export async function predictor(job: BaseJob, facts: JobFacts, calibration: Calibration, cell: Configuration) {
  const described = await describe(job, facts, cell);
  const cluster = { workers: cell.workers, psShards: cell.psShards, colocate: cell.layout === 'colocated' };
  const pinned = cell.pinned ? pinnedCores(cluster, calibration.cores) : undefined;
  return (load: number, spans?: SimulationOptions['spans']) =>
    simulate({
      job: described,
      calibration,
      layout: cell.layout,
      placement: { kind: 'shared', cores: calibration.cores, background: load, ...(pinned ? { pinned } : {}) },
      ...(spans ? { spans } : {}),
    });
}

/**
 * The runs go round the configurations, one run of each per round, rather than one
 * configuration's runs back to back: a virtual machine's speed drifts by a fifth over minutes,
 * and back to back one configuration would get one minute of the machine and the next another.
 */
async function validateAll(job: BaseJob, facts: JobFacts, source: RoundCalibration, options: RealRunOptions): Promise<ValidationRow[]> {
  const { runs, repeats, background, pinCpus } = options;
  const base = await job.resolve();
  const cells = validationCells(base.microBatchSize, source.cores).map((c) => ({ ...c, pinCpus }));
  const measured = cells.map(() => [] as { cell: CellResult; load: number | undefined; cpu: RunCpu | undefined }[]);
  for (let k = 1; k <= repeats; k++) {
    await source.beforeRound(k - 1, repeats);
    for (const [i, cell] of cells.entries()) {
      // A configuration that failed once is not run again.
      if (measured[i]!.some((m) => m.cell.error !== null)) continue;
      process.stderr.write(`simulate: validation round ${k}/${repeats}, ${i + 1}/${cells.length} ${cell.id}\n`);
      const meter = new BackgroundMeter(source.cores);
      const cpu = new RunCpuSampler();
      const dir = repeats === 1 ? runs : join(runs, `r${k}`);
      const result = await runCell(job, cell, dir, 1);
      const sampled = meter.stop();
      const used = result.error === null ? await cpu.perStep(join(dir, cell.id)) : (cpu.stop(), undefined);
      // A process the sampler missed would make the run look cheaper than it was: no figure rather than a wrong one.
      const counted = used ? Object.values(used.processes).reduce((a, b) => a + b, 0) : 0;
      if (used && counted !== cell.processes)
        process.stderr.write(`simulate: ${cell.id} round ${k}: CPU per step left out, /proc showed ${counted} of the run's ${cell.processes} processes\n`);
      measured[i]!.push({ cell: result, load: background ?? sampled, cpu: counted === cell.processes ? used : undefined });
    }
  }
  const calibration = source.result();
  const rows: ValidationRow[] = [];
  for (const [i, cell] of cells.entries()) {
    const layout = layoutOf(cell);
    const predict = await predictor(job, facts, calibration, { ...cell, layout, pinned: pinCpus });
    const own = measured[i]!;
    const realRuns = own.map((m) => ({
      samplesPerSecond: m.cell.samplesPerSecond,
      background: m.load === undefined ? null : sig(m.load, 3),
      cpuMsPerStep: m.cpu === undefined ? null : sig(m.cpu.totalMs, 3),
      cpuMsPerStepByRole: m.cpu === undefined ? null : cpuByRole(m.cpu),
      idleMsPerStepByCore: m.cpu === undefined ? null : idleByCore(m.cpu, calibration.cores),
    }));
    const stats = runStats(realRuns);
    // The split of the run closest to the median stands for the configuration.
    const typical = stats
      ? own.reduce((a, b) =>
          Math.abs((b.cell.samplesPerSecond ?? Infinity) - stats.median) < Math.abs((a.cell.samplesPerSecond ?? Infinity) - stats.median) ? b : a,
        )
      : own[own.length - 1]!;
    const m = typical.cell;
    rows.push(
      await predicted(
        predict,
        {
          id: cell.id,
          layout,
          workers: cell.workers,
          psShards: cell.psShards,
          mode: cell.mode,
          pinned: pinCpus,
          runs: realRuns,
          measuredSplit: m.computeMs === null ? null : split({ computeMs: m.computeMs, pullMs: m.pullMs ?? 0, pushMs: m.pushMs ?? 0, waitMs: m.waitMs ?? 0 }),
          note: own.map((x) => x.cell.error).find((e) => e !== null) ?? null,
        },
        options.trace,
      ),
    );
  }
  return rows;
}

/** A run's idle ms per step on the CPUs the model's cores stand for (the first `cores` this process may use, as pinning takes them); null where /proc missed one. */
function idleByCore(cpu: RunCpu, cores: number): number[] | null {
  const idle = allowedCpus()
    .slice(0, cores)
    .map((c) => cpu.idleMsByCpu[c]);
  return idle.length === cores && idle.every((v) => v !== undefined) ? idle.map((v) => sig(v!, 3)) : null;
}

function cpuByRole(cpu: RunCpu): CpuByRole {
  const of = (role: string) => sig((cpu.byRole[role]?.mainMs ?? 0) + (cpu.byRole[role]?.helperMs ?? 0), 3);
  return { worker: of('worker'), ps: of('ps'), coordinator: of('coordinator') };
}

type Measured = Pick<ValidationRow, 'id' | 'layout' | 'workers' | 'psShards' | 'mode' | 'pinned' | 'runs' | 'measuredSplit' | 'note'>;

/**
 * A row from its real runs: their median, interval and spread, the prediction with the runs'
 * median background (and with none), and the verdict (judge.ts).
 */
async function predicted(predict: Predict, row: Measured, traceDir: string | undefined): Promise<ValidationRow> {
  const stats = runStats(row.runs);
  const load = typicalBackground(row.runs);
  const judged = load ?? 0;
  const quiet = await traced(predict, 0, judged === 0 ? traceDir : undefined, row);
  const loaded = judged === 0 ? quiet : await traced(predict, judged, traceDir, row);
  const { error, verdict } = judge(stats, loaded.samplesPerSecond);
  const atSpeed = errorAtRunSpeed(row.runs, loaded.samplesPerSecond, loaded.cpuMsPerStep);
  const cpus = row.runs.map((r) => r.cpuMsPerStep).filter((v): v is number => v != null);
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
  return {
    ...row,
    measured: stats ? sig(stats.median) : null,
    min: stats?.min ?? null,
    max: stats?.max ?? null,
    spread: stats ? sig(stats.spread, 3) : null,
    repeats: row.runs.map((r) => `${r.samplesPerSecond ?? '—'} (${r.background?.toFixed(2) ?? '?'})`).join(' / '),
    background: load === undefined ? null : sig(load, 3),
    predicted: sig(loaded.samplesPerSecond),
    predictedQuiet: sig(quiet.samplesPerSecond),
    error: error === null ? null : sig(error, 3),
    verdict,
    predictedSplit: split(loaded.timing),
    cpuPerStep:
      cpus.length === 0
        ? null
        : `${median(cpus).toFixed(1)} (${Math.min(...cpus).toFixed(1)}–${Math.max(...cpus).toFixed(1)}) / ${loaded.cpuMsPerStep.toFixed(1)}`,
    cpuRatio: atSpeed ? sig(atSpeed.cpuRatio, 3) : null,
    cpuShares: cpuShares(row.runs, loaded.cpuMsPerStepByRole),
    coreIdle: describeCoreIdle(
      row.runs.map((r) => r.idleMsPerStepByCore),
      modelIdleByCore(loaded.coresAtStep),
    ),
    errorAtRunSpeed: atSpeed ? `${pct(atSpeed.median)} (${pct(atSpeed.min)} to ${pct(atSpeed.max)})` : null,
    verdictAtRunSpeed: atSpeed?.verdict ?? null,
  };
}

type Predict = Awaited<ReturnType<typeof predictor>>;

/** The prediction at `load`, its processes' spans recorded in `<traceDir>/<row id>/` when a folder is given. */
async function traced(predict: Predict, load: number, traceDir: string | undefined, row: Pick<ValidationRow, 'id' | 'workers'>): Promise<SimulationResult> {
  if (traceDir === undefined) return predict(load);
  const names = ['coordinator', ...Array.from({ length: row.workers }, (_, k) => `worker-${k}`)];
  const trace = await simulationTrace(join(traceDir, row.id), names);
  try {
    return await predict(load, (name) => trace.spans(name));
  } finally {
    await trace.close();
  }
}

/**
 * Predicts the real runs of an earlier validation again with this model and calibration: the
 * measured rates, splits and background load stay as they were measured; the predictions, the
 * errors and the verdicts are this run's (`--reuse-validation`).
 */
export async function repredict(
  job: BaseJob,
  facts: JobFacts,
  calibration: Calibration,
  rows: readonly ValidationRow[],
  trace?: string,
): Promise<ValidationRow[]> {
  const out: ValidationRow[] = [];
  for (const row of rows) {
    process.stderr.write(`simulate: predicting ${row.id} again\n`);
    out.push(await predicted(await predictor(job, facts, calibration, row), row, trace));
  }
  return out;
}
