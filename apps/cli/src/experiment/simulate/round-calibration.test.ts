import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testCalibration } from '@dptrain/simulator/testing';
import { calibrationAmongRounds, calibrationsBeforeRound } from './round-calibration.js';

describe('calibrationsBeforeRound', () => {
  it('takes every calibration once over the rounds, evenly, the first before the first round', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (rounds, total) => {
        const counts = Array.from({ length: rounds }, (_, r) => calibrationsBeforeRound(r, rounds, total));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(counts[0]).toBeGreaterThanOrEqual(1);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('puts one before each round when there are as many as rounds', () => {
    expect([0, 1, 2].map((r) => calibrationsBeforeRound(r, 3, 3))).toEqual([1, 1, 1]);
    expect([0, 1, 2, 3, 4].map((r) => calibrationsBeforeRound(r, 5, 3))).toEqual([1, 1, 0, 1, 0]);
  });
});

describe('calibrationAmongRounds', () => {
  it('takes the calibrations as the rounds come and predicts with their median', async () => {
    const taken: string[] = [];
    const slices = [4, 6, 5];
    const source = calibrationAmongRounds(2, 3, async (k) => {
      taken.push(`calibration ${k}`);
      return { ...testCalibration(100), scheduler: { sliceMs: slices[k - 1]! } };
    });
    for (let round = 0; round < 3; round++) {
      taken.push(`before round ${round}`);
      await source.beforeRound(round, 3);
    }
    expect(taken).toEqual(['before round 0', 'calibration 1', 'before round 1', 'calibration 2', 'before round 2', 'calibration 3']);
    expect(source.result().scheduler?.sliceMs).toBe(5);
  });

  it('refuses to give a calibration before any was taken', () => {
    expect(() => calibrationAmongRounds(2, 3, async () => testCalibration(100)).result()).toThrow(/no calibration was taken/);
  });
});
