import { withCode } from '@dptrain/errors';
import type { SpanArgs } from '@dptrain/log';
import type { TraceEvent, TracePhase } from './trace-events.js';

/** A trace folder or file that `dptrain trace merge` cannot read; the message names the file, the line and the fix. */
export class TraceMergeError extends withCode('E_TRACE_MERGE') {}

/** An event as read, with where it came from (for the errors found later). */
export interface ReadEvent {
  readonly event: TraceEvent;
  readonly line: number;
}

export interface ReadTrace {
  readonly events: ReadEvent[];
  /** A last line cut short (the process was killed while writing it): left out. */
  readonly truncatedLine?: number;
}

const PHASES: readonly TracePhase[] = ['B', 'E', 'i', 'M'];

/**
 * The events of one `--trace` file (JSON lines, one Chrome-trace event each).
 * @throws TraceMergeError naming `file` and the line of the first line that is not an event
 */
export function parseTraceLines(file: string, text: string): ReadTrace {
  const lines = text.split('\n');
  const events: ReadEvent[] = [];
  // A file that does not end its last line was being written when its process was killed.
  const unfinishedLast = !text.endsWith('\n') && text !== '' ? lines.length : undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i + 1 === unfinishedLast) return { events, truncatedLine: i + 1 };
      throw new TraceMergeError(
        `${file}:${i + 1}: not a JSON line (${shorten(line)}); a trace file holds one JSON event per line as dptrain --trace writes them. If a process was killed while writing this line, delete the line and merge again`,
      );
    }
    events.push({ event: checkEvent(value, `${file}:${i + 1}`), line: i + 1 });
  }
  return { events };
}

function checkEvent(value: unknown, where: string): TraceEvent {
  const fix = 'a trace file holds the events dptrain --trace writes: name, ph (B, E, i or M), ts (µs), pid, tid';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceMergeError(`${where}: not a JSON object; ${fix}`);
  const e = value as Record<string, unknown>;
  if (typeof e.name !== 'string' || e.name === '') throw new TraceMergeError(`${where}: the event has no name; ${fix}`);
  if (!PHASES.includes(e.ph as TracePhase)) throw new TraceMergeError(`${where}: ph ${JSON.stringify(e.ph)} is not one of B, E, i, M; ${fix}`);
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts))
    throw new TraceMergeError(`${where}: ts ${JSON.stringify(e.ts)} is not a number of microseconds; ${fix}`);
  for (const key of ['pid', 'tid'] as const)
    if (!Number.isSafeInteger(e[key])) throw new TraceMergeError(`${where}: ${key} ${JSON.stringify(e[key])} is not an integer; ${fix}`);
  if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args)))
    throw new TraceMergeError(`${where}: args is not an object; ${fix}`);
  return {
    name: e.name,
    ph: e.ph as TracePhase,
    ts: e.ts,
    pid: e.pid as number,
    tid: e.tid as number,
    ...(e.ph === 'i' ? { s: 't' as const } : {}),
    ...(e.args ? { args: e.args as SpanArgs } : {}),
  };
}

function shorten(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
