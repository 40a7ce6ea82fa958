import { describe, expect, it } from 'vitest';
import { constantSchedule, cosineSchedule, createSchedule, linearScaledLr, stepSchedule, withWarmup } from './schedule.js';

const at = (schedule: (t: number) => number, steps: number[]) => steps.map((t) => schedule(t));

describe('learning-rate schedules', () => {
  it('constant: lr(t) = lr', () => {
    expect(at(constantSchedule(0.1), [0, 1, 1000])).toEqual([0.1, 0.1, 0.1]);
  });

  it('step: lr·γ^⌊t/stepSize⌋', () => {
    // stepSize 10, γ = 0.5: t = 0…9 → 0.1; 10…19 → 0.05; 25 → 0.025
    expect(at(stepSchedule(0.1, 10, 0.5), [0, 9, 10, 19, 25])).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it('cosine: minLr + ½(lr − minLr)(1 + cos(π·t/T)), then minLr', () => {
    const s = cosineSchedule(0.1, 100, 0.01);
    expect(s(0)).toBeCloseTo(0.1, 15);
    // t = 25: 0.01 + 0.045·(1 + √2/2) = 0.0868198052…
    expect(s(25)).toBeCloseTo(0.01 + 0.045 * (1 + Math.SQRT1_2), 15);
    expect(s(50)).toBeCloseTo(0.055, 15); // cos(π/2) = 0
    expect(s(100)).toBeCloseTo(0.01, 15);
    expect(s(250)).toBeCloseTo(0.01, 15);
  });

  it('warm-up climbs by lr/(W+1) per step to the wrapped schedule, which then starts at its step 0', () => {
    // W = 4: 0.1·[1, 2, 3, 4]/5, then the step schedule from its own t = 0
    const s = withWarmup(stepSchedule(0.1, 2, 0.5), 4);
    const expected = [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.05, 0.05, 0.025];
    at(s, [0, 1, 2, 3, 4, 5, 6, 7, 8]).forEach((lr, t) => expect(lr).toBeCloseTo(expected[t], 15));
    const plain = constantSchedule(0.3);
    expect(withWarmup(plain, 0)).toBe(plain);
  });

  it('createSchedule: warm-up then a cosine that ends at totalSteps', () => {
    const s = createSchedule({ lr: 0.1, kind: 'cosine', warmupSteps: 10, totalSteps: 110 });
    expect(s(0)).toBeCloseTo(0.1 / 11, 15);
    expect(s(9)).toBeCloseTo(1 / 11, 15); // 0.1·10/11
    expect(s(10)).toBeCloseTo(0.1, 15);
    expect(s(60)).toBeCloseTo(0.05, 15); // halfway through the 100 cosine steps
    expect(s(110)).toBeCloseTo(0, 15);
    expect(createSchedule({ lr: 0.2 })(7)).toBe(0.2);
    expect(createSchedule({ lr: 0.2, kind: 'step', stepSize: 3 })(3)).toBeCloseTo(0.02, 15);
  });

  it('linear scaling rule: lr·batch/reference', () => {
    expect(linearScaledLr(0.1, 8192, 256)).toBeCloseTo(3.2, 14);
    expect(linearScaledLr(0.1, 64, 256)).toBeCloseTo(0.025, 15);
  });

  it('refuses bad settings and bad steps, naming each', () => {
    expect(() => constantSchedule(-1)).toThrow(/lr must be a finite number ≥ 0, got -1/);
    expect(() => stepSchedule(0.1, 0)).toThrow(/stepSize must be an integer ≥ 1, got 0/);
    expect(() => stepSchedule(0.1, 10, 1.5)).toThrow(/gamma must be a number in \(0, 1\], got 1.5/);
    expect(() => cosineSchedule(0.1, 100, 0.2)).toThrow(/minLr must be a number in \[0, lr = 0.1\], got 0.2/);
    expect(() => cosineSchedule(0.1, 2.5)).toThrow(/totalSteps must be an integer ≥ 1, got 2.5/);
    expect(() => withWarmup(constantSchedule(0.1), -2)).toThrow(/warmupSteps must be an integer ≥ 0, got -2/);
    expect(() => constantSchedule(0.1)(1.5)).toThrow(/t must be an integer ≥ 0, got 1.5/);
    expect(() => createSchedule({ lr: 0.1, kind: 'cosine', warmupSteps: 10, totalSteps: 10 })).toThrow(
      /totalSteps must be an integer > warmupSteps \(10\), got 10/,
    );
    expect(() => createSchedule({ lr: 0.1, kind: 'step' })).toThrow(/stepSize must be an integer ≥ 1, got undefined/);
    expect(() => createSchedule({ lr: 0.1, kind: 'linear' as 'step' })).toThrow(/kind must be one of constant, step, cosine, got "linear"/);
    expect(() => linearScaledLr(0.1, 0, 256)).toThrow(/batchSize must be an integer ≥ 1, got 0/);
  });
});
