import { describe, expect, it } from 'vitest';
import { StepRate } from './step-rate.js';

describe('StepRate', () => {
  it('measures samples/s and the time left over the recent steps only', () => {
    let now = 0;
    const rate = new StepRate({ totalSteps: 100, batchSize: 32 }, () => now, 5);
    // A slow start (workers loading), then 10 steps per second.
    for (const step of [1, 2]) {
      now += 5_000;
      rate.step(step);
    }
    expect(rate.rate()).toBeUndefined();
    for (let step = 3; step <= 10; step++) {
      now += 100;
      rate.step(step);
    }
    const { samplesPerSecond, etaSeconds } = rate.rate()!;
    expect(samplesPerSecond).toBeCloseTo(320, 6);
    expect(etaSeconds).toBeCloseTo(9, 6);
  });

  it('falls while no step closes', () => {
    let now = 0;
    const rate = new StepRate({ totalSteps: 100, batchSize: 1 }, () => now, 5);
    for (let step = 1; step <= 5; step++) {
      now += 1_000;
      rate.step(step);
    }
    expect(rate.rate()!.samplesPerSecond).toBeCloseTo(1, 6);
    now += 4_000;
    expect(rate.rate()!.samplesPerSecond).toBeCloseTo(0.5, 6);
  });
});
