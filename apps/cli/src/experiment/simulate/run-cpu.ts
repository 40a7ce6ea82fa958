import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMetrics } from '../common/run-folder.js';
import { cpuTicks, statFields } from './proc-stat.js';

/** /proc's clock ticks per second (USER_HZ: 100 on every Linux the project runs on). */
const TICKS_PER_SECOND = 100;

/** The part of a run measured: the steps closed between these fractions of it (start-up and the final evaluation left out). */
export const STEADY = [0.3, 0.85] as const;

/** The first and last index of the steady steps among `count` steps (STEADY's fractions of them). */
export function steadyWindow(count: number): [number, number] {
  const [from, to] = STEADY.map((q) => Math.floor(q * (count - 1)));
  return [from!, to!];
}

/** The parent pid of `pid` (field 4 of /proc/PID/stat). */
function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(`/proc/${pid}/stat`)[1]);
  } catch {
    return undefined;
  }
}

/**
 * `pid`'s role (`coordinator`, `ps`, `worker`: the word after bin/dptrain.js) when it is one of a
 * run's processes below this one; `other` when it is no dptrain process; undefined when it may
 * yet become one (roleFrom).
 */
function roleOf(pid: number): string | undefined {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  return roleFrom(cmdline.split('\0'), () => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 8; p = parentOf(p), hops++) if (p === process.pid) return true;
    return false;
  });
}

/**
 * The role a process's command line (`argv`) gives it, `descends` telling whether it runs below
 * this process; undefined for a descendant that may yet exec into a role, so that it is looked
 * at again at the next sample. Two moments look like that: between fork and exec a child of
 * `dptrain local` still shows `dptrain.js local …`, and inside execve (after the old memory is
 * gone, before the new command line is laid out) a process shows an empty one; `dptrain local
 * --pin-cpus` goes through two execs a process (taskset, then node).
 */
export function roleFrom(argv: readonly string[], descends: () => boolean): string | undefined {
  if (argv.every((a) => a === '')) return descends() ? undefined : 'other';
  const at = argv.findIndex((a) => a.endsWith('dptrain.js'));
  if (at < 0) return 'other';
  const role = argv[at + 1];
  if (role !== 'coordinator' && role !== 'ps' && role !== 'worker') return undefined;
  return descends() ? role : 'other';
}

/**
 * CPU ticks (user + system) of `pid`'s main thread, and the process's own total (which keeps the
 * ticks of threads that have ended): the other threads (V8's helpers, libuv's pool, a co-located
 * shard) are the difference, taken over a window in perStep.
 */
function threadTicks(pid: number): { main: number; total: number } | undefined {
  try {
    const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);
    const total = ticks(statFields(`/proc/${pid}/stat`));
    const main = ticks(statFields(`/proc/${pid}/task/${pid}/stat`));
    return Number.isFinite(total) && Number.isFinite(main) ? { main, total } : undefined;
  } catch {
    return undefined;
  }
}

/** A run's CPU milliseconds per steady step, by role, main thread and other threads apart. */
export interface RunCpu {
  readonly steps: number;
  readonly byRole: Readonly<Record<string, { readonly mainMs: number; readonly helperMs: number }>>;
  /** Every process of the run, every thread. */
  readonly totalMs: number;
  /** How many of the run's processes of each role were counted: a caller that knows the run's layout can tell a process missed. */
  readonly processes: Readonly<Record<string, number>>;
  /** Each CPU's idle milliseconds per steady step (/proc/stat, idle and iowait), by CPU number: the waiting a run's CPU time does not show. */
  readonly idleMsByCpu: Readonly<Record<number, number>>;
}

interface Sample {
  readonly at: number;
  readonly ticks: ReadonlyMap<number, { main: number; total: number }>;
  readonly cpus: ReadonlyMap<number, { busy: number; idle: number }>;
}

/**
 * Samples, every 50 ms while a real run goes on, the CPU ticks of every process of it (the
 * coordinator, shard and worker processes below this one, found by their command lines) and each
 * CPU's idle ticks from /proc, so that the CPU the run used per step can be read off its steady part afterwards
 * (perStep). Reading counters costs the run nothing measurable.
 */
export class RunCpuSampler {
  private readonly samples: Sample[] = [];
  private readonly roles = new Map<number, string>();
  /** Pids seen that are not the run's (this shell, the machine's daemons): their command lines are not read again. */
  private readonly others = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    // Unref'd: a run that throws before perStep must not keep the experiment's process alive.
    this.timer = setInterval(() => this.sample(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return; // not Linux: perStep finds no samples and says undefined
    }
    for (const entry of entries) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || this.roles.has(pid) || this.others.has(pid)) continue;
      const role = roleOf(pid);
      if (role === 'other') this.others.add(pid);
      else if (role) this.roles.set(pid, role);
    }
    const ticks = new Map<number, { main: number; total: number }>();
    for (const pid of this.roles.keys()) {
      const t = threadTicks(pid);
      if (t) ticks.set(pid, t);
    }
    this.samples.push({ at: Date.now(), ticks, cpus: cpuTicks() });
  }

  /**
   * CPU ms per step over the steps the run (its `dir`'s metrics.jsonl) closed between STEADY's
   * fractions of it, from the samples nearest their times; undefined where /proc could not be
   * read or no step closed between them. A process that started inside the window counts all it
   * used; one that ended inside it is left out (the run's processes live through its steady steps).
   */
  async perStep(dir: string): Promise<RunCpu | undefined> {
    this.stop();
    const closed = parseMetrics(await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .steps.map((s) => Date.parse(s.time ?? ''))
      .filter(Number.isFinite);
    if (closed.length < 2) return undefined;
    const [from, to] = steadyWindow(closed.length).map((i) => closed[i]!);
    const near = (t: number) =>
      this.samples.reduce<Sample | undefined>((a, s) => (a === undefined || Math.abs(s.at - t) < Math.abs(a.at - t) ? s : a), undefined);
    const [a, b] = [near(from), near(to)];
    if (!a || !b || b.at <= a.at) return undefined;
    const steps = closed.filter((t) => t > a.at && t <= b.at).length;
    if (steps === 0) return undefined;
    const perStep = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND / steps;
    const byRole: Record<string, { mainMs: number; helperMs: number }> = {};
    const processes: Record<string, number> = {};
    let totalMs = 0;
    for (const [pid, end] of b.ticks) {
      const start = a.ticks.get(pid) ?? { main: 0, total: 0 };
      const name = this.roles.get(pid)!;
      processes[name] = (processes[name] ?? 0) + 1;
      const role = (byRole[name] ??= { mainMs: 0, helperMs: 0 });
      // A sample reads the process's ticks before its main thread's, so the main thread's can
      // run a tick ahead: over a short window its share is capped at the process's, and the
      // other threads get the rest, never less than none.
      const total = end.total - start.total;
      const main = Math.min(end.main - start.main, total);
      role.mainMs += perStep(main);
      role.helperMs += perStep(total - main);
      totalMs += perStep(total);
    }
    const idleMsByCpu: Record<number, number> = {};
    for (const [cpu, end] of b.cpus) {
      const start = a.cpus.get(cpu);
      if (start) idleMsByCpu[cpu] = perStep(end.idle - start.idle);
    }
    return { steps, byRole, totalMs, processes, idleMsByCpu };
  }
}
