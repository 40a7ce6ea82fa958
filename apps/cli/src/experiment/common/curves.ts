import type { EvalRecord, StepRecord } from './run-folder.js';

export interface Point {
  readonly step: number;
  readonly value: number;
}

/**
 * Mini-batch losses are noisy: the mean of each run of `window` consecutive steps, placed at the
 * run's last step. A non-finite value (divergence) ends the curve there. `value` picks what is
 * averaged: the loss, or another field of the step records.
 */
export function windowMeans(steps: readonly StepRecord[], window: number, value: (step: StepRecord) => number = (s) => s.loss): Point[] {
  const points: Point[] = [];
  let sum = 0;
  let count = 0;
  for (const s of steps) {
    if (!Number.isFinite(value(s))) break;
    sum += value(s);
    count++;
    if (count === window) {
      points.push({ step: s.step, value: sum / count });
      sum = 0;
      count = 0;
    }
  }
  if (count > 0) points.push({ step: steps[points.length * window + count - 1]!.step, value: sum / count });
  return points;
}

/** A window that leaves about `points` points on a curve of `steps` steps. */
export function windowFor(steps: number, points = 100): number {
  return Math.max(1, Math.floor(steps / points));
}

/**
 * The first step at which the mean loss of the last `window` steps is at or below `target`, or
 * null if it never is. The mean, not one mini-batch's loss, so that one lucky batch does not count.
 */
export function stepsToTarget(steps: readonly StepRecord[], target: number, window: number): number | null {
  let sum = 0;
  for (let i = 0; i < steps.length; i++) {
    sum += steps[i]!.loss;
    if (i >= window) sum -= steps[i - window]!.loss;
    if (i >= window - 1 && sum / window <= target) return steps[i]!.step;
  }
  return null;
}

/**
 * Each epoch's (1-based, as the records count them) training loss: the mean mini-batch loss over the last `tail` fraction of its steps
 * (taken while training, not a separate pass). The tail, because the epoch's early losses belong
 * to an older model than the one evaluated at its end.
 */
export function epochTrainLoss(steps: readonly StepRecord[], tail = 0.1): Map<number, number> {
  const byEpoch = new Map<number, number[]>();
  for (const s of steps) {
    const losses = byEpoch.get(s.epoch) ?? [];
    losses.push(s.loss);
    byEpoch.set(s.epoch, losses);
  }
  return new Map(
    [...byEpoch].map(([epoch, losses]) => {
      const last = losses.slice(losses.length - Math.max(1, Math.round(losses.length * tail)));
      return [epoch, last.reduce((a, b) => a + b, 0) / last.length];
    }),
  );
}

/** The evaluations of one split, in step order. */
export function evalsOf(evals: readonly EvalRecord[], split: EvalRecord['split']): EvalRecord[] {
  return evals.filter((e) => e.split === split).sort((a, b) => a.step - b.step);
}

/**
 * The wall time at `step`, assuming the run's steps took equal time: the run's wall time, evaluation
 * included, spread evenly (the records' `time` would leave out the start-up before the first step).
 */
export function secondsAt(step: number, totalSteps: number, wallSeconds: number): number {
  return (wallSeconds * step) / totalSteps;
}

export interface EpochPoint {
  /** 1-based. */
  readonly epoch: number;
  readonly split: 'train' | 'validation' | 'test';
  readonly loss: number;
  /** null for train: no accuracy is measured on the training set. */
  readonly accuracy: number | null;
}

/** Per epoch: the mean training loss and each evaluation the run made at the epoch's end. */
export function epochCurves(steps: readonly StepRecord[], evals: readonly EvalRecord[]): EpochPoint[] {
  const points: EpochPoint[] = [...epochTrainLoss(steps)]
    .filter(([, loss]) => Number.isFinite(loss))
    .map(([epoch, loss]) => ({ epoch, split: 'train', loss, accuracy: null }));
  for (const e of evals) if (Number.isFinite(e.loss)) points.push({ epoch: e.epoch, split: e.split, loss: e.loss, accuracy: e.accuracy });
  return points;
}
