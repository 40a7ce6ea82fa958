import { describe, expect, it } from 'vitest';
import { testCalibration } from '@dptrain/simulator/testing';
import { describeCalibration } from './calibration-file.js';

describe("the report's calibration lines", () => {
  it('state the port and the helper threads after the compute where the file has them', () => {
    const lines = describeCalibration(
      testCalibration(100, {
        computeHelperMs: 0.42,
        computeHelperAfterMs: 0.55,
        port: { fixedMs: 0.07, msPerMB: 0.131, latencyMs: 0, receiveHelperMsPerMB: 0.736 },
        computeMsByCore: [4.139, 4.108],
      }),
    ).join('\n');
    expect(lines).toMatch(/on each core, the process pinned to it in turn: core 0 4\.139 ms, core 1 4\.108 ms/);
    expect(lines).toMatch(/helper threads per micro-batch: 0\.420 ms during it, 0\.550 ms after it/);
    expect(lines).toMatch(/port to its shard's thread.*0\.0700 ms \+ 0\.131 ms\/MB.*receive helpers 0\.736 ms\/MB/);
  });

  it('say an older file timed its helpers back to back, and leave out the port it did not measure', () => {
    const lines = describeCalibration(testCalibration(100, { computeHelperMs: 1.19 })).join('\n');
    expect(lines).toMatch(/1\.190 ms during it \(timed back to back/);
    expect(lines).not.toMatch(/co-located worker's port/);
    expect(lines).not.toMatch(/on each core/);
  });
});
