/**
 * What bench:gc reads back from a run: each epoch's steps per second (from metrics.jsonl's step
 * records, so the evaluation between epochs is not counted) and the garbage collections each
 * process made while that epoch ran (from the samples gc-counter.mjs writes).
 */

export interface StepRecord {
  readonly epoch: number;
  /** Milliseconds since the epoch of the step's `time`. */
  readonly timeMs: number;
}

/** One epoch's span: from its first step's record to its last. */
export interface EpochSpan {
  readonly epoch: number;
  readonly steps: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** Reads the step records of a metrics.jsonl (other kinds of record are skipped). */
export function stepRecords(jsonl: string): StepRecord[] {
  const records: StepRecord[] = [];
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as { kind?: string; epoch?: number; time?: string };
    if (record.kind !== 'step' || typeof record.epoch !== 'number' || typeof record.time !== 'string') continue;
    records.push({ epoch: record.epoch, timeMs: Date.parse(record.time) });
  }
  return records;
}

/** The epochs in order, each spanning its own step records. */
export function epochSpans(records: readonly StepRecord[]): EpochSpan[] {
  const spans = new Map<number, { steps: number; startMs: number; endMs: number }>();
  for (const { epoch, timeMs } of records) {
    const span = spans.get(epoch);
    if (span === undefined) spans.set(epoch, { steps: 1, startMs: timeMs, endMs: timeMs });
    else {
      span.steps++;
      span.startMs = Math.min(span.startMs, timeMs);
      span.endMs = Math.max(span.endMs, timeMs);
    }
  }
  return [...spans.entries()].sort(([a], [b]) => a - b).map(([epoch, span]) => ({ epoch, ...span }));
}

/** Steps per second over a span: the steps after its first, over the time they took. */
export function stepsPerSecond(span: EpochSpan): number {
  const seconds = (span.endMs - span.startMs) / 1000;
  return seconds > 0 ? (span.steps - 1) / seconds : Number.NaN;
}

/** A process's cumulative collection counts at one moment. */
export interface GcSample {
  readonly timeMs: number;
  readonly major: number;
  readonly minor: number;
}

/**
 * Collections a process made during [startMs, endMs]: the counts of the last sample at or before
 * the end minus those of the last sample at or before the start (samples are cumulative and in
 * time order). Undefined when no sample precedes the start.
 */
export function collectionsDuring(samples: readonly GcSample[], startMs: number, endMs: number): { major: number; minor: number } | undefined {
  const at = (timeMs: number): GcSample | undefined => samples.findLast((sample) => sample.timeMs <= timeMs);
  const first = at(startMs);
  const last = at(endMs);
  if (first === undefined || last === undefined) return undefined;
  return { major: last.major - first.major, minor: last.minor - first.minor };
}
