import { describe, expect, it } from 'vitest';
import { epochCurves, epochTrainLoss, stepsToTarget, windowMeans } from './curves.js';
import type { StepRecord } from './run-folder.js';

function steps(losses: readonly number[], perEpoch = 100): StepRecord[] {
  return losses.map((loss, i) => ({ kind: 'step', step: i + 1, epoch: Math.floor(i / perEpoch) + 1, loss, lr: 0.1, gradNorm: 1 }));
}

describe('windowMeans', () => {
  it('averages each window at its last step, with a shorter last window', () => {
    expect(windowMeans(steps([4, 2, 3, 1, 5]), 2)).toEqual([
      { step: 2, value: 3 },
      { step: 4, value: 2 },
      { step: 5, value: 5 },
    ]);
  });

  it('ends the curve at the first non-finite loss', () => {
    expect(windowMeans(steps([1, 3, Number.NaN, 1]), 2)).toEqual([{ step: 2, value: 2 }]);
  });
});

describe('stepsToTarget', () => {
  it('is the first step whose window mean reaches the target, not a single lucky batch', () => {
    // windows of 2: (3+0.1)/2, (0.1+3)/2, (3+1)/2, (1+0.8)/2 = 0.9 at step 5
    expect(stepsToTarget(steps([3, 0.1, 3, 1, 0.8]), 1, 2)).toBe(5);
    expect(stepsToTarget(steps([3, 2]), 1, 2)).toBeNull();
  });
});

describe('epochTrainLoss and epochCurves', () => {
  it("take the last tail of each epoch, keeping the records' epochs (from 1)", () => {
    const records = steps([9, 9, 9, 1, 5, 5, 5, 3], 4);
    expect([...epochTrainLoss(records, 0.25)]).toEqual([
      [1, 1],
      [2, 3],
    ]);
    const curve = epochCurves(records, [{ kind: 'eval', step: 4, epoch: 1, split: 'test', loss: 2, accuracy: 0.5 }]);
    expect(curve).toContainEqual({ epoch: 1, split: 'test', loss: 2, accuracy: 0.5 });
    expect(curve.filter((p) => p.split === 'train').map((p) => p.epoch)).toEqual([1, 2]);
  });
});
