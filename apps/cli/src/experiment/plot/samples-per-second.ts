import type { TimedEval, TimedStep } from './open-runs.js';

export interface RatePoint {
  /** Seconds from the run's first step record to the window's last. */
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

/**
 * Training throughput over a run, from the records' wall-clock `time`: for each window of
 * `window` steps, the samples of its steps over the time they took. A step took the time since
 * the record before it, a step's or an evaluation's, so evaluations do not count as training
 * time. The first step has no record before it and counts in no window. Empty when the records
 * carry no time.
 */
export function samplesPerSecond(steps: readonly TimedStep[], evals: readonly TimedEval[], batchSize: number, window: number): RatePoint[] {
  const ms = (time: string | undefined): number => (time === undefined ? Number.NaN : Date.parse(time));
  const start = ms(steps[0]?.time);
  if (!Number.isFinite(start)) return [];
  // The last record written after step s: the latest evaluation made at s, else step s itself.
  const after = new Map<number, number>();
  for (const s of steps) after.set(s.step, ms(s.time));
  for (const e of evals) if (after.has(e.step)) after.set(e.step, Math.max(after.get(e.step)!, ms(e.time)));
  const points: RatePoint[] = [];
  let samples = 0;
  let busy = 0;
  let count = 0;
  for (let i = 1; i < steps.length; i++) {
    const took = ms(steps[i]!.time) - after.get(steps[i - 1]!.step)!;
    // A record without time, or a clock that went back (a resumed run's records), counts no time.
    if (!(took > 0)) continue;
    samples += batchSize;
    busy += took;
    count++;
    if (count === window || i === steps.length - 1) {
      points.push({ seconds: (ms(steps[i]!.time) - start) / 1000, samplesPerSecond: samples / (busy / 1000) });
      samples = 0;
      busy = 0;
      count = 0;
    }
  }
  return points;
}
