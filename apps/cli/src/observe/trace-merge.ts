import { basename } from 'node:path';
import { processNameEvent, type TraceEvent } from './trace-events.js';
import { TraceMergeError, type ReadEvent } from './trace-lines.js';

/** The events of one `--trace` file. */
export interface TraceFileEvents {
  readonly file: string;
  readonly events: readonly ReadEvent[];
}

/** One process of the merged timeline. */
export interface MergedProcess {
  readonly name: string;
  readonly pid: number;
  readonly file: string;
  /** Spans and instants (metadata left out). */
  readonly events: number;
  /** Spans it never ended (killed): closed at its last event. */
  readonly unfinished: number;
}

export interface MergedTrace {
  /** The Chrome-trace JSON object: every process's events on one time axis starting at 0. */
  readonly trace: { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: { startEpochMicros: number } };
  readonly processes: readonly MergedProcess[];
}

interface ProcessEvents {
  readonly file: string;
  readonly sourcePid: number;
  readonly events: ReadEvent[];
}

/**
 * Merges the events of several `--trace` files into one timeline: one process per process that
 * recorded (a file continued by a restarted process holds several), named by its `process_name`
 * (else by its file), with its own pid (renumbered when two hosts' pids coincide); times relative
 * to the earliest event; spans a killed process left open ended at its last event, with
 * `args.unfinished`.
 * @throws TraceMergeError when there is no event at all, or an `E` ends no span of its track
 */
export function mergeTraces(files: readonly TraceFileEvents[]): MergedTrace {
  const groups = files.flatMap(byProcess);
  const firstTs = Math.min(...groups.flatMap((g) => g.events.filter((r) => r.event.ph !== 'M').map((r) => r.event.ts)));
  if (!Number.isFinite(firstTs))
    throw new TraceMergeError(
      `${files.map((f) => f.file).join(', ')} hold no span or instant; record a run with --trace (dptrain local --trace DIR) and merge DIR once it has run`,
    );
  const used = new Set<number>();
  const named = new Map<string, number>();
  const merged = groups.map((group) => {
    const pid = used.has(group.sourcePid) ? Math.max(...used) + 1 : group.sourcePid;
    used.add(pid);
    const base = processName(group);
    const seen = named.get(base) ?? 0;
    named.set(base, seen + 1);
    return { group, pid, name: seen === 0 ? base : `${base} (restart ${seen})` };
  });
  const metadata: TraceEvent[] = [];
  const timed: TraceEvent[] = [];
  const processes: MergedProcess[] = [];
  const order = [...merged].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const { group, pid, name } of merged) {
    metadata.push(processNameEvent(pid, name, 0), {
      name: 'process_sort_index',
      ph: 'M',
      ts: 0,
      pid,
      tid: 0,
      args: { sort_index: order.findIndex((m) => m.pid === pid) },
    });
    metadata.push(...threadMetadata(group, pid));
    const { events, unfinished } = closeSpans(group);
    for (const event of events) timed.push({ ...event, pid, ts: event.ts - firstTs });
    processes.push({ name, pid, file: group.file, events: events.length, unfinished });
  }
  timed.sort((a, b) => a.ts - b.ts);
  return { trace: { traceEvents: [...metadata, ...timed], displayTimeUnit: 'ms', otherData: { startEpochMicros: firstTs } }, processes };
}

/** A file's events split by the process that recorded them, in the order they appear. */
function byProcess({ file, events }: TraceFileEvents): ProcessEvents[] {
  const groups = new Map<number, ProcessEvents>();
  for (const read of events) {
    let group = groups.get(read.event.pid);
    if (!group) groups.set(read.event.pid, (group = { file, sourcePid: read.event.pid, events: [] }));
    group.events.push(read);
  }
  return [...groups.values()];
}

function processName(group: ProcessEvents): string {
  const named = group.events.findLast((r) => r.event.ph === 'M' && r.event.name === 'process_name' && typeof r.event.args?.name === 'string');
  return named ? String(named.event.args!.name) : basename(group.file).replace(/\.trace\.jsonl$/, '');
}

/** Coordinator first, then the shards, then the workers. */
function rank(name: string): number {
  if (name.startsWith('coordinator')) return 0;
  if (name.startsWith('ps')) return 1;
  if (name.startsWith('worker')) return 2;
  return 3;
}

/** The file's track names and order, once each; its process name is replaced by the merged one. */
function threadMetadata(group: ProcessEvents, pid: number): TraceEvent[] {
  const kept = new Map<string, TraceEvent>();
  for (const { event } of group.events) if (event.ph === 'M' && event.name !== 'process_name') kept.set(`${event.name}/${event.tid}`, { ...event, pid, ts: 0 });
  return [...kept.values()];
}

/**
 * The process's spans and instants in time order, each `E` checked against the `B` open on its
 * track, and the spans still open at the end (the process was killed) ended at its last event.
 */
function closeSpans(group: ProcessEvents): { events: TraceEvent[]; unfinished: number } {
  const timed = group.events.filter((r) => r.event.ph !== 'M').sort((a, b) => a.event.ts - b.event.ts);
  const open = new Map<number, ReadEvent[]>();
  for (const read of timed) {
    const { event } = read;
    if (event.ph === 'B') {
      const stack = open.get(event.tid) ?? [];
      stack.push(read);
      open.set(event.tid, stack);
    } else if (event.ph === 'E') {
      const begun = open.get(event.tid)?.pop();
      const where = `${group.file}:${read.line}`;
      if (!begun)
        throw new TraceMergeError(
          `${where}: the end of "${event.name}" on track ${event.tid} of pid ${event.pid} ends no span begun there; the file was edited or mixed with another`,
        );
      if (begun.event.name !== event.name)
        throw new TraceMergeError(
          `${where}: the end of "${event.name}" meets "${begun.event.name}" (line ${begun.line}) open on track ${event.tid}; the file was edited or mixed with another`,
        );
    }
  }
  const events = timed.map((r) => r.event);
  const lastTs = events.at(-1)?.ts ?? 0;
  let unfinished = 0;
  for (const stack of open.values())
    for (const { event } of stack.reverse()) {
      events.push({ name: event.name, ph: 'E', ts: lastTs, pid: event.pid, tid: event.tid, args: { unfinished: true } });
      unfinished++;
    }
  return { events, unfinished };
}
