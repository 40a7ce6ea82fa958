import { describe, expect, it } from 'vitest';
import { resumePointOf } from './resume-point.js';

const step = (s: number, loss: number) => ({ kind: 'step', step: s, epoch: 0, loss, lr: 0.1, gradNorm: 1 });
const evalAt = (s: number) => ({ kind: 'eval', step: s, split: 'test', loss: 1, accuracy: 0.5 });

describe('resumePointOf', () => {
  it('continues the epoch in progress with its loss sum; the last epoch’s train loss is kept', () => {
    const p = resumePointOf([step(1, 4), step(2, 2), evalAt(2), step(3, 1.5), { kind: 'layers' }], 2);
    expect(p).toEqual({ step: 3, epochLossSum: 1.5, epochSteps: 1, trainLoss: 3, evalDue: false });
  });

  it('asks for the evaluation of an epoch that ended just before the restart', () => {
    expect(resumePointOf([step(1, 4), step(2, 2)], 2).evalDue).toBe(true);
    expect(resumePointOf([], 2)).toEqual({ step: 0, epochLossSum: 0, epochSteps: 0, trainLoss: Number.NaN, evalDue: false });
  });

  it('counts a step written twice once (the last record) and refuses a folder with a gap', () => {
    expect(resumePointOf([step(1, 4), step(1, 3)], 5).epochLossSum).toBe(3);
    expect(() => resumePointOf([step(1, 4), step(3, 3)], 5)).toThrow(/none for step 2.*give --out the folder/);
  });
});
