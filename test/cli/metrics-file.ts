import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** A record of metrics.jsonl, as parsed. */
export type MetricsLine = { readonly kind: string; readonly step: number; readonly epoch: number; readonly time?: unknown; readonly [field: string]: unknown };

/** The records of a run folder's metrics.jsonl, in file order. */
export function readMetrics(dir: string): MetricsLine[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsLine);
}

/** The records without `time`, the one field that differs between two runs of the same job. */
export function withoutTime(records: readonly MetricsLine[]): Omit<MetricsLine, 'time'>[] {
  return records.map(({ time: _time, ...rest }) => rest);
}

/** Each record's `time` is an ISO 8601 UTC instant, in file order never earlier than the one before. */
export function expectClock(records: readonly MetricsLine[]): void {
  const times = records.map((r) => (typeof r.time === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(r.time) ? Date.parse(r.time) : Number.NaN));
  expect(times.every(Number.isFinite)).toBe(true);
  expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
}
