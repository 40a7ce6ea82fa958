import { unrefTimer } from './unref-timer.js';

/**
 * Many deadlines on one timer. Request timeouts used to be one setTimeout each; with one request per
 * micro-batch the timer objects alone were a measurable share of the garbage (bench/wire.bench.ts).
 * Here the timer is armed for the earliest deadline and, when it fires, expires every due key and
 * re-arms for the next; removing a key never touches the timer. The timer is unref'd: what keeps a
 * process alive is its open socket, not a request waiting on it. Deadlines use Date.now(), which
 * vitest's fake timers control.
 */
export class DeadlineTimer<K> {
  private readonly deadlines = new Map<K, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(private readonly onExpire: (key: K) => void) {}

  /** Calls onExpire(key) after `ms` milliseconds unless delete(key) comes first. */
  add(key: K, ms: number): void {
    const at = Date.now() + ms;
    this.deadlines.set(key, at);
    if (at < this.armedFor) this.arm(at);
  }

  delete(key: K): void {
    this.deadlines.delete(key);
  }

  /** Forgets every deadline and stops the timer. */
  clear(): void {
    this.deadlines.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = unrefTimer(setTimeout(() => this.fire(), Math.max(0, at - Date.now())));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [key, at] of this.deadlines) {
      if (at <= now) {
        this.deadlines.delete(key);
        this.onExpire(key);
      } else if (at < next) {
        next = at;
      }
    }
    if (next < Infinity) this.arm(next);
  }
}
