import { describe, expect, it } from 'vitest';
import { checkCalibration, computeRunCost, coreComputeFactor, type Calibration } from './calibration.js';
import { testCalibration } from './testing/index.js';
import { defaultSliceMs } from './cpu.js';
import { EventQueue } from './event-queue.js';
import { nodeFactory } from './world.js';

const runs = [
  { count: 2, ms: 3, helperMs: 0.2 },
  { count: 4, ms: 5, helperMs: 0.4 },
  { count: 3, ms: 4, helperMs: 0.3 },
];
const withRuns = (computeRuns?: Calibration['computeRuns']): Calibration => testCalibration(100, { computeRuns });

describe('the cost of a run of micro-batches computed in one pass', () => {
  it('is the measured run of that length', () => {
    expect(computeRunCost(withRuns(runs), 3)).toEqual({ count: 3, ms: 4, helperMs: 0.3 });
  });

  it('grows by the step between the two longest measured runs beyond them', () => {
    const cost = computeRunCost(withRuns(runs), 6)!;
    expect(cost.ms).toBeCloseTo(7);
    expect(cost.helperMs).toBeCloseTo(0.6);
  });

  it('is unknown to a calibration without runs (a run then costs its single micro-batches)', () => {
    expect(computeRunCost(withRuns(undefined), 2)).toBeUndefined();
    expect(computeRunCost(withRuns([{ count: 2, ms: 3, helperMs: 0 }]), 5)).toBeUndefined();
  });

  it('refuses a calibration file whose runs are malformed, naming the field', () => {
    const bad = { ...withRuns(runs), computeRuns: [{ count: 1, ms: 1, helperMs: 0 }] };
    expect(() => checkCalibration(JSON.parse(JSON.stringify(bad)))).toThrow(/computeRuns/);
    expect(checkCalibration(JSON.parse(JSON.stringify(withRuns(runs)))).computeRuns).toHaveLength(3);
  });
});

describe('the port’s cost in a calibration file', () => {
  const port = { fixedMs: 0.07, msPerMB: 0.25, latencyMs: 0, receiveHelperMsPerMB: 0.5 };
  it('is read when given and may be absent (older files)', () => {
    expect(checkCalibration(JSON.parse(JSON.stringify(testCalibration(100, { port })))).port).toEqual(port);
    expect(checkCalibration(JSON.parse(JSON.stringify(testCalibration(100)))).port).toBeUndefined();
  });

  it('is refused when a figure is missing or negative, naming the field and the fix', () => {
    for (const bad of [
      { ...port, latencyMs: -1 },
      { fixedMs: 0.07, msPerMB: 0.25 },
    ]) {
      const file = JSON.parse(JSON.stringify({ ...testCalibration(100), port: bad }));
      expect(() => checkCalibration(file)).toThrow(/field "port".*--calibrate/);
    }
  });
});

describe('the compute on each core', () => {
  it('makes a pinned process compute at its core’s speed, and any other at the median', () => {
    const c = testCalibration(100, { computeMs: [2, 2.4, 2.5, 2.6, 3], computeMsByCore: [2.4, 2.6] });
    expect(coreComputeFactor(c, 0)).toBeCloseTo(2.4 / 2.5, 12);
    expect(coreComputeFactor(c, 1)).toBeCloseTo(2.6 / 2.5, 12);
    expect(coreComputeFactor(c, undefined)).toBe(1);
    expect(coreComputeFactor(testCalibration(100, { computeMs: [2, 3] }), 1)).toBe(1);
  });

  it('is read when given and may be absent (older files); a bad one is refused, naming the field', () => {
    expect(checkCalibration(JSON.parse(JSON.stringify(testCalibration(100, { computeMsByCore: [2.4, 2.6] })))).computeMsByCore).toEqual([2.4, 2.6]);
    for (const bad of [[], [2.4, 0], [2.4, -1], 'fast'])
      expect(() => checkCalibration(JSON.parse(JSON.stringify({ ...testCalibration(100), computeMsByCore: bad })))).toThrow(
        /field "computeMsByCore".*--calibrate/,
      );
  });
});

describe('how one CPU is shared (scheduler)', () => {
  it('is read when given and may be absent (older files); a bad one is refused, naming the field', () => {
    const scheduler = { sliceMs: 4.03 };
    expect(checkCalibration(JSON.parse(JSON.stringify(testCalibration(100, { scheduler })))).scheduler).toEqual(scheduler);
    expect(checkCalibration(JSON.parse(JSON.stringify(testCalibration(100)))).scheduler).toBeUndefined();
    for (const bad of [{ sliceMs: 0 }, { sliceMs: -4 }, {}, 'fair'])
      expect(() => checkCalibration(JSON.parse(JSON.stringify({ ...testCalibration(100), scheduler: bad })))).toThrow(/field "scheduler".*--calibrate/);
  });

  it('sets the slice of the hosts the simulation runs on; without it, the kernel’s default', () => {
    const queue = new EventQueue();
    expect(nodeFactory(queue, { kind: 'shared', cores: 2 }, { sliceMs: 4.03 })('worker-0').process.host.sliceMs).toBe(4.03);
    expect(nodeFactory(queue, { kind: 'dedicated', cores: 2 }, { sliceMs: 4.03 })('ps-0').process.host.sliceMs).toBe(4.03);
    expect(nodeFactory(queue, { kind: 'dedicated', cores: 2 })('worker-0').process.host.sliceMs).toBe(defaultSliceMs(2));
  });
});
