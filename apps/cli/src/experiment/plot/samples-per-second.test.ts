import { describe, expect, it } from 'vitest';
import type { TimedEval, TimedStep } from './open-runs.js';
import { samplesPerSecond } from './samples-per-second.js';

const at = (ms: number): string => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();
const step = (n: number, ms: number | undefined): TimedStep => ({
  kind: 'step',
  step: n,
  epoch: 1,
  loss: 1,
  lr: 0.1,
  gradNorm: 1,
  ...(ms === undefined ? {} : { time: at(ms) }),
});
const evaluation = (n: number, ms: number): TimedEval => ({ kind: 'eval', step: n, epoch: 1, split: 'test', loss: 1, accuracy: 0.5, time: at(ms) });

describe('samplesPerSecond', () => {
  it('is the samples of each window of steps over the time they took, from the first step', () => {
    // Steps every 100 ms: 32 samples per 0.1 s.
    const steps = [0, 100, 200, 300, 400].map((ms, i) => step(i + 1, ms));
    expect(samplesPerSecond(steps, [], 32, 2)).toEqual([
      { seconds: 0.2, samplesPerSecond: 320 },
      { seconds: 0.4, samplesPerSecond: 320 },
    ]);
  });

  it('leaves out the time of evaluations between steps', () => {
    // Step 3 is written 100 ms after the evaluation made at step 2 ended, 1.1 s after step 2.
    const steps = [step(1, 0), step(2, 100), step(3, 1200)];
    expect(samplesPerSecond(steps, [evaluation(2, 1100)], 10, 2)).toEqual([{ seconds: 1.2, samplesPerSecond: 100 }]);
  });

  it('is empty for records without time', () => {
    expect(samplesPerSecond([step(1, undefined), step(2, undefined)], [], 32, 1)).toEqual([]);
  });
});
