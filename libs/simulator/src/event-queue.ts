/** A scheduled callback; `cancel()` keeps it from firing (cheaper than removing it from the heap). */
export interface EventHandle {
  readonly at: number;
  cancel(): void;
}

interface Entry extends EventHandle {
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/**
 * The simulation's one scheduler: callbacks ordered by virtual time, ties in the order they were
 * scheduled (so a cause scheduled before its effect at the same instant fires first). The clock
 * only moves forward: scheduling into the past is refused, because an event that fires "before
 * now" would let the model see effects before their causes.
 */
export class EventQueue {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private nowMs = 0;

  /** Virtual milliseconds since the simulation started. */
  get now(): number {
    return this.nowMs;
  }

  /** Events scheduled and not yet fired or cancelled (cancelled ones count until they surface). */
  get size(): number {
    return this.heap.length;
  }

  /**
   * Schedules `fire` at virtual time `at`.
   * @throws RangeError when `at` is before now or not finite
   */
  at(at: number, fire: () => void): EventHandle {
    if (!(at >= this.nowMs) || !Number.isFinite(at)) {
      throw new RangeError(`event time ${at} ms is before the virtual clock (${this.nowMs} ms) or not finite; schedule at now or later`);
    }
    const entry: Entry = {
      at,
      seq: this.seq++,
      fire,
      cancelled: false,
      cancel() {
        entry.cancelled = true;
      },
    };
    this.push(entry);
    return entry;
  }

  /** Schedules `fire` `delayMs` (≥ 0) from now. */
  after(delayMs: number, fire: () => void): EventHandle {
    return this.at(this.nowMs + Math.max(0, delayMs), fire);
  }

  /** Time of the next live event, or undefined when none is left. */
  peek(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Advances the clock to the next live event and fires it; false when none is left. */
  step(): boolean {
    this.dropCancelled();
    const entry = this.pop();
    if (!entry) return false;
    this.nowMs = entry.at;
    entry.fire();
    return true;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
