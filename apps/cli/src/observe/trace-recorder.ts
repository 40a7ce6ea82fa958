import type { EndSpan, InstantName, SpanArgs, SpanName, Spans } from '@dptrain/log';
import { epochMicros, processNameEvent, threadNameEvents, trackName, trackOf, type TraceEvent } from './trace-events.js';

/** Where the recorder's batches of JSON lines go (a TraceFile). */
export interface TraceOutput {
  append(text: string): void;
}

export interface TraceRecorderOptions {
  /** The process's id in the trace (its pid). */
  readonly pid: number;
  /** How its process reads in the viewer: coordinator, ps-0, worker-1. */
  readonly processName: string;
  /** Microseconds on the clock every process shares. @default epochMicros */
  readonly clock?: () => number;
  /** Events held before a batch is handed to the output (soon after, not inside a span's call). @default 2048 */
  readonly batchEvents?: number;
  /** A batch is handed over at least this often. @default 500 */
  readonly flushMs?: number;
}

/**
 * A `Spans` sink that records Chrome-trace events: a `B`/`E` pair per span, an `i` per instant,
 * with the span's arguments. Events are kept in memory and handed to the output as JSON lines in
 * batches, from a timer or an immediate, never from inside `begin` or its end.
 *
 * The viewer nests `B`/`E` pairs by track, so each span name has its own track (`compute`,
 * `pull`…), and a span that begins while another of its name is open in this process (two
 * leases at once, replies still being written for the previous version) takes the next free lane
 * of that name: on every track, spans follow one another and never overlap.
 */
export class TraceRecorder implements Spans {
  private events: TraceEvent[] = [];
  /** Per span name, whether each of its lanes holds an open span. */
  private readonly busy = new Map<SpanName, boolean[]>();
  /** Tracks whose name has been recorded. */
  private readonly named = new Set<number>();
  private readonly clock: () => number;
  private readonly batchEvents: number;
  private readonly timer: NodeJS.Timeout;
  private flushScheduled = false;

  constructor(
    private readonly output: TraceOutput,
    private readonly options: TraceRecorderOptions,
  ) {
    this.clock = options.clock ?? epochMicros;
    this.batchEvents = options.batchEvents ?? 2048;
    this.events.push(processNameEvent(options.pid, options.processName, this.clock()));
    // Unreferenced: a recorder never keeps its process alive; the exit path flushes what is left.
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 500).unref();
  }

  begin(name: SpanName, args?: SpanArgs): EndSpan {
    let lanes = this.busy.get(name);
    if (!lanes) this.busy.set(name, (lanes = []));
    let lane = lanes.indexOf(false);
    if (lane === -1) lane = lanes.length;
    lanes[lane] = true;
    const tid = this.track(name, lane);
    this.add({ name, ph: 'B', ts: this.clock(), pid: this.options.pid, tid, ...(args ? { args } : {}) });
    let open = true;
    return (endArgs) => {
      if (!open) return;
      open = false;
      this.add({ name, ph: 'E', ts: this.clock(), pid: this.options.pid, tid, ...(endArgs ? { args: endArgs } : {}) });
      lanes[lane] = false;
    };
  }

  instant(name: InstantName, args?: SpanArgs): void {
    this.add({ name, ph: 'i', s: 't', ts: this.clock(), pid: this.options.pid, tid: this.track(name, 0), ...(args ? { args } : {}) });
  }

  /** Hands every event recorded so far to the output, as one batch of JSON lines. */
  flush(): void {
    this.flushScheduled = false;
    if (this.events.length === 0) return;
    const batch = this.events;
    this.events = [];
    let text = '';
    for (const event of batch) text += `${JSON.stringify(event)}\n`;
    this.output.append(text);
  }

  /** Stops the timer and hands over the last batch. */
  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private track(name: SpanName | InstantName, lane: number): number {
    const tid = trackOf(name, lane);
    if (!this.named.has(tid)) {
      this.named.add(tid);
      this.events.push(...threadNameEvents(this.options.pid, tid, trackName(name, lane), this.clock()));
    }
    return tid;
  }

  private add(event: TraceEvent): void {
    this.events.push(event);
    if (this.events.length >= this.batchEvents && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
