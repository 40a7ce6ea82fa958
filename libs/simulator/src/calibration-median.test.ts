import { describe, expect, it } from 'vitest';
import { medianCalibration } from './calibration-median.js';
import { testCalibration } from './testing/index.js';

describe('medianCalibration', () => {
  it('takes each cost’s median over the calibrations and pools the compute samples', () => {
    const three = [
      testCalibration(100, {
        computeMs: [2, 2.2],
        foldMsPerMFloat: 0.2,
        transport: { fixedMs: 0.07, msPerMB: 0.25 },
        receiveHelperMsPerMB: 0.1,
        computeHelperAfterMs: 0.6,
      }),
      testCalibration(100, {
        computeMs: [2.6],
        foldMsPerMFloat: 0.5,
        transport: { fixedMs: 0.06, msPerMB: 0.41 },
        receiveHelperMsPerMB: 0.97,
        computeHelperAfterMs: 0.4,
      }),
      testCalibration(100, {
        computeMs: [2.4],
        foldMsPerMFloat: 0.3,
        transport: { fixedMs: 0.09, msPerMB: 0.3 },
        receiveHelperMsPerMB: 0.2,
        computeHelperAfterMs: 0.5,
      }),
    ];
    const m = medianCalibration(three);
    expect(m.computeMs).toEqual([2, 2.2, 2.6, 2.4]);
    expect(m.foldMsPerMFloat).toBe(0.3);
    expect(m.transport).toEqual({ fixedMs: 0.07, msPerMB: 0.3 });
    expect(m.receiveHelperMsPerMB).toBe(0.2);
    expect(m.computeHelperAfterMs).toBe(0.5);
    expect(m.source).toMatch(/^the median of 3 calibrations/);
  });

  it('takes the scheduler’s turn as the median of the calibrations that measured it', () => {
    const m = medianCalibration([
      testCalibration(100, { scheduler: { sliceMs: 4.1 } }),
      testCalibration(100, { scheduler: { sliceMs: 3.9 } }),
      testCalibration(100),
      testCalibration(100, { scheduler: { sliceMs: 4.0 } }),
    ]);
    expect(m.scheduler).toEqual({ sliceMs: 4.0 });
    expect(medianCalibration([testCalibration(100), testCalibration(100)]).scheduler).toBeUndefined();
  });

  it('takes each run length’s median and the coordinator’s step cost’s median', () => {
    const runs = (ms: number) => [{ count: 2, ms, helperMs: ms / 10, helperAfterMs: ms / 20 }];
    const step = (mainMs: number) => ({ mainMs, helperMs: 0.2, source: 'a real run' });
    const m = medianCalibration([
      testCalibration(100, { computeRuns: runs(4.4), coordinatorStep: step(1.26) }),
      testCalibration(100, { computeRuns: runs(5.2), coordinatorStep: step(0.95) }),
      testCalibration(100, { computeRuns: runs(4.6), coordinatorStep: step(1.1) }),
    ]);
    expect(m.computeRuns).toEqual([{ count: 2, ms: 4.6, helperMs: expect.closeTo(0.46, 9), helperAfterMs: expect.closeTo(0.23, 9) }]);
    expect(m.coordinatorStep).toMatchObject({ mainMs: 1.1, helperMs: 0.2 });
  });

  it('takes each figure of the port’s cost as its median over the calibrations that measured it, and leaves it out where none did', () => {
    const port = (msPerMB: number, latencyMs: number) => ({ fixedMs: 0.05, msPerMB, latencyMs, receiveHelperMsPerMB: msPerMB / 2 });
    const m = medianCalibration([
      testCalibration(100, { port: port(0.2, 0.01) }),
      testCalibration(100, { port: port(0.3, 0) }),
      testCalibration(100),
      testCalibration(100, { port: port(0.25, 0.03) }),
    ]);
    expect(m.port).toEqual({ fixedMs: 0.05, msPerMB: 0.25, latencyMs: 0.01, receiveHelperMsPerMB: 0.125 });
    expect(medianCalibration([testCalibration(100), testCalibration(100)]).port).toBeUndefined();
  });

  it('takes each core’s compute median over the calibrations, and none where they timed different cores', () => {
    const m = medianCalibration([
      testCalibration(100, { computeMsByCore: [2.5, 2.7] }),
      testCalibration(100, { computeMsByCore: [2.4, 2.9] }),
      testCalibration(100, { computeMsByCore: [2.6, 2.8] }),
    ]);
    expect(m.computeMsByCore).toEqual([2.5, 2.8]);
    expect(medianCalibration([testCalibration(100, { computeMsByCore: [2.5, 2.7] }), testCalibration(100)]).computeMsByCore).toBeUndefined();
  });

  it('returns a single calibration as it is and refuses none', () => {
    const one = testCalibration(100);
    expect(medianCalibration([one])).toBe(one);
    expect(() => medianCalibration([])).toThrow(RangeError);
  });
});
