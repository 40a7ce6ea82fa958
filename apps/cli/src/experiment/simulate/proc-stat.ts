import { readFileSync } from 'node:fs';

/**
 * The fields of a /proc/PID/stat (or /proc/PID/task/TID/stat) file after the command name, which
 * sits in parentheses and may hold spaces: index 0 is field 3 (state), 1 the parent pid, 11 and
 * 12 utime and stime, 13 and 14 cutime and cstime. Throws where the file cannot be read.
 */
export function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * Busy and idle clock ticks of one `cpu…` line of /proc/stat (user nice system idle iowait irq
 * softirq steal …; guest time is already inside user). Steal counts as busy: another guest running
 * on our cores slows us as much. Undefined for a line that is not one.
 */
export function cpuLineTicks(line: string): { busy: number; idle: number } | undefined {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  return Number.isFinite(busy) && Number.isFinite(idle! + iowait!) ? { busy, idle: idle! + iowait! } : undefined;
}

/** Each CPU's busy and idle ticks (the `cpuN` lines of /proc/stat), by CPU number; empty where it cannot be read. */
export function cpuTicks(stat = readStat()): Map<number, { busy: number; idle: number }> {
  const byCpu = new Map<number, { busy: number; idle: number }>();
  for (const line of stat.split('\n')) {
    const cpu = /^cpu(\d+)\s/.exec(line)?.[1];
    const ticks = cpu === undefined ? undefined : cpuLineTicks(line);
    if (ticks) byCpu.set(Number(cpu), ticks);
  }
  return byCpu;
}

function readStat(): string {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return '';
  }
}
