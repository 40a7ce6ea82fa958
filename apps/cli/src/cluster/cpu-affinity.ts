import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { withCode } from '@dptrain/errors';

/** Pinning asked for where it cannot be done (no `taskset`, not Linux). */
export class CpuPinningError extends withCode('E_CPU_PINNING') {}

/**
 * The CPUs this process may run on, in order: the kernel's `Cpus_allowed_list` (e.g. "0-3,8"),
 * so that pinning inside a container or a `taskset` keeps to the CPUs it was given; 0..n−1 where
 * the list cannot be read.
 */
export function allowedCpus(status = readStatus()): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status ?? '')?.[1];
  const cpus = list?.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Number.isInteger(from) && Number.isInteger(to) && to! >= from! ? Array.from({ length: to! - from! + 1 }, (_, i) => from! + i) : [];
  });
  return cpus && cpus.length > 0 ? cpus : Array.from({ length: availableParallelism() }, (_, i) => i);
}

function readStatus(pid: number | 'self' = 'self'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Why `taskset` (util-linux) cannot be run here, or undefined where it can. */
function tasksetFailure(): string | undefined {
  const probe = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  return probe.error || probe.status !== 0 ? (probe.error?.message ?? `exit ${probe.status}`) : undefined;
}

/** Throws CpuPinningError, naming the fix, unless `taskset` (util-linux) can be run. */
export function checkTaskset(): void {
  const failure = tasksetFailure();
  if (failure !== undefined) {
    throw new CpuPinningError(
      `--pin-cpus starts each process under taskset, which could not be run here (${failure}); help: install util-linux (apt install util-linux) on Linux, or run without --pin-cpus`,
    );
  }
}

/** The command and arguments that run `command args` with every thread on CPU `cpu`. */
export function pinned(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return ['taskset', ['--cpu-list', String(cpu), command, ...args]];
}

/** A process's CPU affinity, every thread of it: on one of its CPUs (`pin`), or back on all of them (`release`). */
export interface ProcessAffinity {
  readonly cpus: readonly number[];
  pin(core: number): void;
  release(): void;
}

/**
 * Moves process `pid`, every thread of it, onto one of the CPUs it may use and back, with
 * `taskset --all-tasks --pid`; undefined where taskset cannot be run (then nothing is pinned).
 * Threads started later inherit the affinity of the thread that starts them.
 */
export function affinityOf(pid: number): ProcessAffinity | undefined {
  if (tasksetFailure() !== undefined) return undefined;
  const cpus = allowedCpus(readStatus(pid));
  const set = (list: string) => {
    // A thread that exits between taskset listing the threads and moving it (V8's, libuv's, a
    // worker thread's come and go) fails the attempt with "No such process": the next one moves the others.
    let result: SpawnSyncReturns<string>;
    for (let attempt = 0; ; attempt++) {
      result = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', list, String(pid)], { encoding: 'utf8' });
      if (result.status === 0 || attempt === 10 || !/No such process/.test(result.stderr ?? '')) break;
    }
    if (result.error || result.status !== 0)
      throw new CpuPinningError(
        `taskset could not move process ${pid} onto CPUs ${list} (${result.error?.message ?? result.stderr.trim()}); help: run where a process may set its own CPU affinity (a container's seccomp profile may forbid sched_setaffinity), or give the process one CPU (taskset --cpu-list 0 dptrain …) so that nothing needs moving`,
      );
  };
  return { cpus, pin: (core) => set(String(cpus[core % cpus.length])), release: () => set(cpus.join(',')) };
}
