import { readFileSync } from 'node:fs';

/**
 * CPU nanoseconds this process's main thread has run (Linux schedstat), or undefined elsewhere.
 * Light on purpose: transport-peer.ts, a child process of the calibration, reads it too.
 */
export function mainThreadNs(): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}
