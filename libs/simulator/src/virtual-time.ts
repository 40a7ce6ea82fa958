import type { EventHandle, EventQueue } from './event-queue.js';
import { withCode } from '@dptrain/errors';

/** A Node Timeout look-alike backed by an event of the queue. */
class VirtualTimer {
  handle: EventHandle | undefined;
  constructor(readonly repeatMs: number | undefined) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return false;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return 0;
  }
}

type Saved = Pick<typeof globalThis, 'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval'> & {
  dateNow: () => number;
  perfNow: PropertyDescriptor | undefined;
};

/**
 * Puts the real coordinator and parameter-server code on the simulation's clock: while installed,
 * setTimeout/setInterval (and their clear functions), Date.now and performance.now read and
 * schedule on `queue` instead of the machine's clock. setImmediate, process.nextTick and
 * microtasks stay real: the run loop uses them to let the real code finish reacting to one event
 * before the next fires. Only one virtual clock can be installed at a time.
 *
 * @returns uninstall, which restores the real functions
 */
export function installVirtualTime(queue: EventQueue): () => void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (g.__dptrainVirtualTime) throw new Error('a virtual clock is already installed in this process; run one simulation at a time');
  const saved: Saved = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    dateNow: Date.now,
    perfNow: Object.getOwnPropertyDescriptor(performance, 'now'),
  };
  const epoch = saved.dateNow();
  const arm = (timer: VirtualTimer, delay: number, fire: () => void): void => {
    timer.handle = queue.after(Number.isFinite(delay) ? Math.max(0, delay) : 0, () => {
      if (timer.repeatMs !== undefined) arm(timer, timer.repeatMs, fire);
      fire();
    });
  };
  const schedule = (repeat: boolean) =>
    ((callback: (...args: unknown[]) => void, delay = 0, ...args: unknown[]) => {
      // Node treats intervals below 1 ms as 1 ms; an interval of 0 would never let time advance.
      const timer = new VirtualTimer(repeat ? Math.max(1, Number(delay) || 0) : undefined);
      arm(timer, repeat ? timer.repeatMs! : Number(delay) || 0, () => callback(...args));
      return timer;
    }) as unknown as typeof setTimeout;
  const clear = (timer: unknown): void => {
    if (timer instanceof VirtualTimer) timer.handle?.cancel();
  };
  g.setTimeout = schedule(false);
  g.setInterval = schedule(true);
  g.clearTimeout = clear;
  g.clearInterval = clear;
  Date.now = () => epoch + queue.now;
  performance.now = () => queue.now;
  g.__dptrainVirtualTime = true;
  return () => {
    g.setTimeout = saved.setTimeout;
    g.clearTimeout = saved.clearTimeout;
    g.setInterval = saved.setInterval;
    g.clearInterval = saved.clearInterval;
    Date.now = saved.dateNow;
    if (saved.perfNow) Object.defineProperty(performance, 'now', saved.perfNow);
    else delete (performance as unknown as Record<string, unknown>).now;
    delete g.__dptrainVirtualTime;
  };
}

/** The simulated job did not finish within the virtual time it was given. */
export class SimulationLimitError extends withCode('E_SIMULATION_LIMIT') {}

/**
 * Fires the queue's events one by one until `until` settles, letting every microtask, nextTick
 * and immediate the real code queued in reaction to an event run before the next event fires.
 * @throws SimulationLimitError when virtual time would pass `limitMs` first (a job too slow for
 *   its budget, or stuck while an interval timer keeps the queue from running dry)
 * @throws Error when the queue runs dry first: every process waits on another, which is a bug in
 *   the model or in the code it drives
 */
export async function runUntil<T>(queue: EventQueue, until: Promise<T>, limitMs: number, describe: () => string = () => ''): Promise<T> {
  let settled = false;
  until.then(
    () => (settled = true),
    () => (settled = true),
  );
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  await turn();
  while (!settled) {
    if ((queue.peek() ?? 0) > limitMs) {
      throw new SimulationLimitError(`simulation passed its limit of ${limitMs} virtual ms and the job is not done; ${describe()}`);
    }
    if (!queue.step()) {
      await turn();
      if (settled) break;
      throw new Error(`simulation stuck at ${queue.now.toFixed(3)} virtual ms: no event left and the job is not done; ${describe()}`);
    }
    await turn();
  }
  return until;
}
