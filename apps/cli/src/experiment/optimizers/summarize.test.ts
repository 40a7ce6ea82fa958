import { describe, expect, it } from 'vitest';
import type { EvalRecord, RunFolder, StepRecord, Summary } from '../common/run-folder.js';
import { bestPerOptimizer, groupBest, summarizeRun, type RunSummary } from './summarize.js';
import { expandSweep } from './sweep.js';

function folder(losses: readonly number[], evals: readonly EvalRecord[], perEpoch: number): RunFolder {
  const steps: StepRecord[] = losses.map((loss, i) => ({ kind: 'step', step: i + 1, epoch: Math.floor(i / perEpoch) + 1, loss, lr: 0.1, gradNorm: 1 }));
  const summary = { steps: losses.length, wallSeconds: 10 } as Summary;
  return { summary, metrics: { steps, evals, layers: [] } };
}

const evalAt = (step: number, epoch: number, split: 'test' | 'validation', accuracy: number, loss: number): EvalRecord => ({
  kind: 'eval',
  step,
  epoch,
  split,
  accuracy,
  loss,
});

describe('expandSweep', () => {
  it("multiplies each optimizer's usual rate by the factors", () => {
    expect(expandSweep(['sgd', 'adam'], [0.3, 1]).map((r) => r.id)).toEqual(['sgd-lr0.03', 'sgd-lr0.1', 'adam-lr0.0003', 'adam-lr0.001']);
  });
});

describe('summarizeRun', () => {
  it("takes test accuracy at the best validation epoch and the gap against that epoch's tail loss", () => {
    // 10 steps per epoch; epoch 1 tail (last step) loss 1.0, epoch 2 tail 0.5.
    const losses = [2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5];
    const evals = [
      evalAt(10, 1, 'validation', 0.8, 0.9),
      evalAt(10, 1, 'test', 0.79, 1.2),
      evalAt(20, 2, 'validation', 0.7, 1.1),
      evalAt(20, 2, 'test', 0.72, 1.0),
    ];
    const run = summarizeRun({ id: 'sgd-lr0.1', optimizer: 'sgd', lr: 0.1 }, folder(losses, evals, 10), 1.5);
    expect(run.bestValidationAccuracy).toBe(0.8);
    expect(run.bestEpoch).toBe(1);
    expect(run.testAccuracy).toBe(0.79);
    expect(run.generalizationGap).toBe(0.2); // 1.2 − 1.0
    expect(run.trainLoss).toBe(0.5);
    // window = 1 (20 steps / 100 points): first loss ≤ 1.5 at step 10; 10 of 20 steps of a 10 s run.
    expect([run.stepsToTarget, run.secondsToTarget]).toEqual([10, 5]);
  });
});

describe('bestPerOptimizer and groupBest', () => {
  const row = (id: string, optimizer: RunSummary['optimizer'], accuracy: number, error: string | null = null): RunSummary => ({
    id,
    optimizer,
    lr: 1,
    trainLoss: 0,
    bestValidationAccuracy: accuracy,
    bestEpoch: 1,
    testAccuracy: accuracy,
    testLoss: 0,
    generalizationGap: 0,
    stepsToTarget: null,
    secondsToTarget: null,
    wallSeconds: 1,
    error,
  });

  it('keeps the best validation run of each optimizer and skips failed runs', () => {
    const best = bestPerOptimizer([row('a', 'sgd', 0.8), row('b', 'sgd', 0.85), row('c', 'adam', 0.9, 'boom'), row('d', 'adam', 0.7)]);
    expect(best.map((r) => r.id)).toEqual(['b', 'd']);
  });

  it('splits the adaptive methods from sgd, momentum and nesterov', () => {
    const { adaptive, nonAdaptive } = groupBest([row('s', 'sgd', 0.8), row('n', 'nesterov', 0.86), row('a', 'adam', 0.85), row('r', 'rmsprop', 0.84)]);
    expect([nonAdaptive?.id, adaptive?.id]).toEqual(['n', 'a']);
  });
});
