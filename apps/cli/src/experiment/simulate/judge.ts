import { median } from '@dptrain/cluster';
import type { SimulationResult } from '@dptrain/simulator';

/**
 * How a configuration's real runs are judged against its prediction (issue #20): the measured
 * rate is the median of the repeats, their interval and spread are reported beside it, and a
 * configuration whose repeats spread more than SPREAD_LIMIT cannot tell a good model from a bad
 * one, so it is neither a pass nor a failure.
 */

/** Predicted error above which a measurable configuration fails validation (issue #7: within 15%). */
export const TOLERANCE = 0.15;

/** (max − min) / median of the repeats above which a configuration is unmeasurable. */
export const SPREAD_LIMIT = 0.15;

/**
 * within / outside: measurable, and the prediction within TOLERANCE of the median or not;
 * unmeasurable: the repeats spread more than SPREAD_LIMIT; failed: no repeat gave a rate.
 */
export type Verdict = 'within' | 'outside' | 'unmeasurable' | 'failed';

/** One real run of a configuration: its steady samples/s (null when it failed) and the other load during it. */
export interface RealRun {
  readonly samplesPerSecond: number | null;
  /** Cores other work kept busy during the run (BackgroundMeter), null where /proc could not tell. */
  readonly background: number | null;
  /** CPU ms per steady step of all the run's processes (RunCpuSampler); null where /proc could not tell, absent in rows of earlier validations. */
  readonly cpuMsPerStep?: number | null;
  /** That CPU by the process it was used in (coordinator, shard processes, workers with their threads); absent in rows of earlier validations. */
  readonly cpuMsPerStepByRole?: CpuByRole | null;
  /** Each core's idle ms per steady step, in the model's order of cores (RunCpu.idleMsByCpu); absent in rows of earlier validations. */
  readonly idleMsPerStepByCore?: readonly number[] | null;
}

/** CPU ms per step by process role, as /proc shows a run (a co-located shard's thread is its worker's): the simulation's own split. */
export type CpuByRole = SimulationResult['cpuMsPerStepByRole'];

// The coordinator's median (backup leases), the same rule: the mean of the two middle values.
export { median };

export interface RunStats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median. */
  readonly spread: number;
}

/** Median, interval and spread of the runs that gave a rate; null when none did. */
export function runStats(runs: readonly RealRun[]): RunStats | null {
  const rates = runs.map((r) => r.samplesPerSecond).filter((v): v is number => v !== null && Number.isFinite(v));
  if (rates.length === 0) return null;
  const m = median(rates);
  const [min, max] = [Math.min(...rates), Math.max(...rates)];
  return { median: m, min, max, spread: m > 0 ? (max - min) / m : Infinity };
}

/** The other load to predict the configuration with: the median of the runs' backgrounds, undefined when none was measured. */
export function typicalBackground(runs: readonly RealRun[]): number | undefined {
  const loads = runs.map((r) => r.background).filter((v): v is number => v !== null && Number.isFinite(v));
  return loads.length === 0 ? undefined : median(loads);
}

/** (predicted − median) / median and the verdict, by the rules at the top of this module. */
export function judge(stats: RunStats | null, predicted: number): { error: number | null; verdict: Verdict } {
  if (stats === null) return { error: null, verdict: 'failed' };
  const error = (predicted - stats.median) / stats.median;
  return { error, verdict: verdictOf(error, stats.spread) };
}

function verdictOf(error: number, spread: number): Verdict {
  if (spread > SPREAD_LIMIT) return 'unmeasurable';
  return Math.abs(error) <= TOLERANCE ? 'within' : 'outside';
}

/** Counts of a validation's verdicts, and its one-line headline ("k of n measurable within 15%"). */
export function tally(verdicts: readonly Verdict[]): { within: number; measurable: number; unmeasurable: number; failed: number; headline: string } {
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const within = count('within');
  const measurable = within + count('outside');
  const [unmeasurable, failed] = [count('unmeasurable'), count('failed')];
  const aside = [unmeasurable > 0 ? `${unmeasurable} unmeasurable (repeats spread more than ${SPREAD_LIMIT * 100}%)` : '', failed > 0 ? `${failed} failed` : '']
    .filter(Boolean)
    .join(', ');
  return {
    within,
    measurable,
    unmeasurable,
    failed,
    headline: `${within} of ${measurable} measurable configurations within ${TOLERANCE * 100}%${aside ? `; ${aside}, not counted` : ''}`,
  };
}

/**
 * The error with each run's own machine speed taken out, from the runs that gave a rate and their
 * CPU per step: a run whose processes used k times the CPU per step the model charges ran on a
 * machine k times slower than calibrated (a virtual machine's host moves it by a fifth to a half
 * from one run to the next), or the model misses that CPU; either way, had the model charged k
 * times every cost it would have predicted about predicted / k (its costs scale its times, the
 * wire's latency and the time slice aside). Each run's error is (predicted / k − rate) / rate;
 * their median, least and greatest. What is left is the model's ordering and waiting, not its
 * costs: the raw error above judges those. Its spread is that of the runs' adjusted ratios
 * (1 + error), as runStats's is of their rates, and its verdict follows the same rules (judge).
 * Null when no run has both figures.
 */
export function errorAtRunSpeed(
  runs: readonly RealRun[],
  predicted: number,
  modelledCpuMsPerStep: number,
): { median: number; min: number; max: number; cpuRatio: number; verdict: Verdict } | null {
  const both = runs.filter(
    (r): r is RealRun & { samplesPerSecond: number; cpuMsPerStep: number } =>
      r.samplesPerSecond !== null && r.samplesPerSecond > 0 && r.cpuMsPerStep != null && r.cpuMsPerStep > 0,
  );
  if (both.length === 0 || !(modelledCpuMsPerStep > 0)) return null;
  const errors = both.map((r) => (predicted * (modelledCpuMsPerStep / r.cpuMsPerStep)) / r.samplesPerSecond - 1);
  const [mid, min, max] = [median(errors), Math.min(...errors), Math.max(...errors)];
  return {
    median: mid,
    min,
    max,
    verdict: verdictOf(mid, (max - min) / (1 + mid)),
    cpuRatio: median(both.map((r) => r.cpuMsPerStep)) / modelledCpuMsPerStep,
  };
}

/**
 * Each role's share of a step's CPU, in percent: the median of the runs' shares, then the
 * model's. Where the host slows every process of a run alike, shares do not move with its speed;
 * a share the model gets wrong is then a cost it charges to the wrong process or lacks, whatever
 * minute it was calibrated in.
 */
export function cpuShares(runs: readonly RealRun[], modelled: CpuByRole): string | null {
  const shares = (c: CpuByRole) => {
    const total = c.worker + c.ps + c.coordinator;
    return [c.worker, c.ps, c.coordinator].map((v) => (100 * v) / total);
  };
  const measured = runs
    .map((r) => r.cpuMsPerStepByRole)
    .filter((c): c is CpuByRole => c != null && c.worker + c.ps + c.coordinator > 0)
    .map(shares);
  if (measured.length === 0) return null;
  const typical = [0, 1, 2].map((i) => median(measured.map((s) => s[i]!)));
  const text = (v: number[]) => v.map((x) => x.toFixed(0)).join(' / ');
  return `${text(typical)} vs ${text(shares(modelled))}`;
}
