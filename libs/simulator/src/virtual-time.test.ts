import { afterEach, describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { installVirtualTime, runUntil, SimulationLimitError } from './virtual-time.js';

let uninstall: (() => void) | undefined;
afterEach(() => {
  uninstall?.();
  uninstall = undefined;
});

describe('installVirtualTime', () => {
  it('puts timers, Date.now and performance.now on the queue, and restores them', async () => {
    const realSetTimeout = globalThis.setTimeout;
    const queue = new EventQueue();
    uninstall = installVirtualTime(queue);
    const t0 = Date.now();
    const seen: number[] = [];
    const interval = setInterval(() => seen.push(performance.now()), 10);
    const done = new Promise<number>((resolve) => setTimeout(() => resolve(Date.now() - t0), 35));
    const timeout = setTimeout(() => seen.push(-1), 20);
    clearTimeout(timeout);
    expect(await runUntil(queue, done, 1000)).toBe(35);
    clearInterval(interval);
    expect(seen).toEqual([10, 20, 30]);
    uninstall();
    uninstall = undefined;
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    expect(Math.abs(Date.now() - t0)).toBeLessThan(60_000);
  });

  it('reports a job that does not finish within its limit', async () => {
    const queue = new EventQueue();
    uninstall = installVirtualTime(queue);
    setInterval(() => undefined, 100);
    await expect(runUntil(queue, new Promise(() => undefined), 1_000)).rejects.toBeInstanceOf(SimulationLimitError);
  });

  it('refuses a second clock in the same process', () => {
    uninstall = installVirtualTime(new EventQueue());
    expect(() => installVirtualTime(new EventQueue())).toThrow(/already installed/);
  });
});
