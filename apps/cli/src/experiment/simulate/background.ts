import { readFileSync } from 'node:fs';
import { cpuLineTicks, statFields } from './proc-stat.js';

/** Busy and total clock ticks of all CPUs together, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const ticks = cpuLineTicks(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!);
    return ticks ? { busy: ticks.busy, total: ticks.busy + ticks.idle } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of this process and of every descendant it has reaped (utime, stime, cutime,
 * cstime of /proc/self/stat). A real run's processes are all reaped by the time it returns, so
 * the difference across the run is its whole CPU, coordinator, shards and workers included.
 */
function ownTicks(): number | undefined {
  try {
    const [utime, stime, cutime, cstime] = statFields('/proc/self/stat').slice(11, 15).map(Number);
    const sum = utime + stime + cutime + cstime;
    return Number.isFinite(sum) ? sum : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Measures the other load on this machine while a real run goes on: the CPU all processes used
 * (/proc/stat, steal included: another guest running on our cores slows us as much) less the CPU
 * of this process and the run's processes, as a number of cores kept busy by other work. The
 * simulation takes that many busy processes sharing the cores with ours. Reading counters before
 * and after costs nothing during the run, and unlike timing a probe it is not biased by the
 * run's own processes or by their nice value.
 */
export class BackgroundMeter {
  private readonly machine = machineTicks();
  private readonly own = ownTicks();

  constructor(private readonly cores: number) {}

  /** Cores used by other work since construction, or undefined where /proc cannot tell. */
  stop(): number | undefined {
    const machine = machineTicks();
    const own = ownTicks();
    if (!this.machine || !machine || this.own === undefined || own === undefined) return undefined;
    const total = machine.total - this.machine.total;
    if (total <= 0) return undefined;
    const others = machine.busy - this.machine.busy - (own - this.own);
    return Math.max(0, (others / total) * this.cores);
  }
}
