import type { Calibration } from '../calibration.js';

/**
 * For tests: a calibration of round, cheap costs for a model of `paramCount` parameters in
 * micro-batches of 4 (10 ms a micro-batch, 0.1 ms a megabyte or mega-float of anything else), so
 * a simulated step's time follows from the job's shape and is easy to reason about.
 */
export function testCalibration(paramCount: number, overrides: Partial<Calibration> = {}): Calibration {
  return {
    source: 'test',
    model: { name: 'mlp', paramCount, microBatchSize: 4, backend: 'none' },
    computeMs: [10],
    encode: { fixedMs: 0.001, msPerMB: 0.1 },
    decode: { fixedMs: 0.001, msPerMB: 0.1 },
    transport: { fixedMs: 0.001, msPerMB: 0.1 },
    foldMsPerMFloat: 0.1,
    applyMsPerMFloat: 0.1,
    coordinatorMsPerMessage: 0.001,
    wire: { latencyMs: 0.01, bandwidthMBps: 1000 },
    cores: 2,
    ...overrides,
  };
}
