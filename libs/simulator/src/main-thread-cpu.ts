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
