import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultInjection } from '../fault-injection.js';

/** Waits `ms` milliseconds; rejects with signal.reason when `signal` aborts first. */
export type Wait = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realWait: Wait = async (ms, signal) => {
  await sleep(ms, undefined, signal ? { signal } : {});
};

/**
 * The worker's side of DPTRAIN_FAULT (see fault-injection.ts): the misbehaviour the chaos suite
 * asks of a worker, applied where a faulty machine would misbehave. With no faults every method
 * does nothing.
 */
export class InjectedFaults {
  constructor(
    private readonly fault: FaultInjection = {},
    /** The slow fault's wait; tests pass one that records instead of sleeping. */
    private readonly wait: Wait = realWait,
  ) {}

  /**
   * slow=F: after a micro-batch computed in `computeMs`, waits (F − 1) × computeMs, so the worker
   * takes F times its compute time, as a machine F times slower would.
   * @returns the milliseconds waited (0 without the fault)
   */
  async afterCompute(computeMs: number, signal?: AbortSignal): Promise<number> {
    const slow = this.fault.slow;
    if (slow === undefined || slow <= 1) return 0;
    const ms = (slow - 1) * computeMs;
    await this.wait(ms, signal);
    return ms;
  }

  /**
   * nan-from-step=T: from step T on, overwrites the gradient with NaN before it is pushed. The
   * frame leaves as a faulty peer's would, so the shard is the one that must refuse it.
   * @returns whether the gradient was poisoned
   */
  poison(step: number, grads: Float32Array): boolean {
    const from = this.fault.nanFromStep;
    if (from === undefined || step < from) return false;
    grads.fill(Number.NaN);
    return true;
  }
}
