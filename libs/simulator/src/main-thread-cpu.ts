import { readFileSync, readlinkSync } from 'node:fs';

/** The first field of a schedstat file (CPU nanoseconds the thread has run), or undefined where it cannot be read. */
export function schedstatNs(path: string): number | undefined {
  try {
    const ns = Number(readFileSync(path, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU nanoseconds this process's main thread has run (Linux schedstat), or undefined elsewhere.
 * Light on purpose: transport-peer.ts, a child process of the calibration, reads it too.
 */
export function mainThreadNs(): number | undefined {
  return schedstatNs(`/proc/self/task/${process.pid}/schedstat`);
}

/** This process's CPU milliseconds so far: all its threads', and its main thread's (all of it where that cannot be read). */
export function processCpu(): { all: number; main: number } {
  const cpu = process.cpuUsage();
  const all = (cpu.user + cpu.system) / 1000;
  const main = mainThreadNs();
  return { all, main: main === undefined ? all : main / 1e6 };
}

/** The CPU milliseconds this process's main thread, and its other threads, used since `before` (a processCpu reading). */
export function cpuSince(before: { all: number; main: number }): { main: number; helpers: number } {
  const now = processCpu();
  const main = now.main - before.main;
  return { main, helpers: Math.max(0, now.all - before.all - main) };
}

/**
 * The schedstat file of the calling thread under its own id (`/proc/PID/task/TID/schedstat`), so
 * that another thread of the process can read it; undefined where there is none.
 */
export function thisThreadSchedstat(): string | undefined {
  try {
    return `/proc/${readlinkSync('/proc/thread-self')}/schedstat`;
  } catch {
    return undefined;
  }
}
