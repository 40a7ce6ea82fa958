import { INSTANT_NAMES, SPAN_NAMES, type InstantName, type SpanArgs, type SpanName } from '@dptrain/log';

/**
 * The Chrome trace event format (also read by Perfetto), the part of it the `--trace` files and
 * `dptrain trace merge` use: spans as `B`/`E` pairs, instants as `i`, and `M` metadata naming
 * processes and tracks. `ts` is in microseconds.
 */
export type TracePhase = 'B' | 'E' | 'i' | 'M';

export interface TraceEvent {
  readonly name: string;
  readonly ph: TracePhase;
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  /** Instants: drawn on their own track (thread scope). */
  readonly s?: 't';
  readonly args?: SpanArgs;
}

/**
 * Microseconds since the Unix epoch: one clock for every process of a host (across hosts, as good
 * as their synchronisation). Not `performance.timeOrigin + performance.now()`: Node reads the
 * origin's wall time and its monotonic time in two steps at start-up, and on a loaded machine a
 * process descheduled between them is off the wall clock by tens of milliseconds (29 ms measured
 * here, 12 processes started under stress-ng), enough to put one process's spans before the
 * pushes that caused them. The offset is taken instead at the moment `Date.now()` ticks to the
 * next millisecond, the best of three.
 */
export function epochMicros(): number {
  offsetMs ??= wallClockOffsetMs();
  return Math.round((offsetMs + performance.now()) * 1000);
}

let offsetMs: number | undefined;

/** The two clocks of a process: the wall clock in whole milliseconds and the monotonic one. */
export interface Clocks {
  readonly wall: () => number;
  readonly mono: () => number;
}

/** wall − mono, read right after the wall clock ticks to its next millisecond, the largest of three (at most ~3 ms of spinning, once). */
export function wallClockOffsetMs(clocks: Clocks = { wall: () => Date.now(), mono: () => performance.now() }): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const before = clocks.wall();
    let wall = before;
    while (wall === before) wall = clocks.wall();
    // A delay before the monotonic reading makes the difference smaller, never larger: keep the largest.
    best = Math.max(best, wall - clocks.mono());
  }
  return best;
}

/** Tracks per span name: lane k of a name is track `base + k` (lanes: spans of one name that overlap). */
const LANES_PER_NAME = 1000;

const TRACK_NAMES: readonly (SpanName | InstantName)[] = [...SPAN_NAMES, ...INSTANT_NAMES];

/**
 * The track (tid) of lane `lane` of the spans or instants called `name`. Each name has its own
 * block of tids, in the order of SPAN_NAMES then INSTANT_NAMES, so sorting tracks by tid keeps a
 * name's lanes together.
 */
export function trackOf(name: SpanName | InstantName, lane: number): number {
  return (TRACK_NAMES.indexOf(name) + 1) * LANES_PER_NAME + lane;
}

/** How a track reads in the viewer: `compute`, then `compute 2`, `compute 3` for its extra lanes. */
export function trackName(name: string, lane: number): string {
  return lane === 0 ? name : `${name} ${lane + 1}`;
}

/** The metadata event naming a process (`coordinator`, `ps-0`, `worker-1`). */
export function processNameEvent(pid: number, name: string, ts: number): TraceEvent {
  return { name: 'process_name', ph: 'M', ts, pid, tid: 0, args: { name } };
}

/** The metadata events naming a track and placing it among the process's tracks. */
export function threadNameEvents(pid: number, tid: number, name: string, ts: number): TraceEvent[] {
  return [
    { name: 'thread_name', ph: 'M', ts, pid, tid, args: { name } },
    { name: 'thread_sort_index', ph: 'M', ts, pid, tid, args: { sort_index: tid } },
  ];
}
