import { describe, expect, it } from 'vitest';
import { cpuShares, errorAtRunSpeed, judge, median, runStats, tally, typicalBackground, type RealRun } from './judge.js';

const runs = (...rates: (number | null)[]): RealRun[] => rates.map((samplesPerSecond) => ({ samplesPerSecond, background: 0 }));

describe('judging a configuration by its real runs', () => {
  it('takes the middle run, and the mean of the middle two of an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('reports the median, the interval and the spread of the runs that gave a rate, leaving failed runs out', () => {
    expect(runStats(runs(1000, 1100, null, 900, 1050, 950))).toEqual({ median: 1000, min: 900, max: 1100, spread: 0.2 });
    expect(runStats(runs(null, null))).toBeNull();
  });

  it('judges the prediction against the median, not the best or worst run', () => {
    const stats = runStats(runs(2000, 2100, 2050, 2080, 2020))!;
    // 2,340 is 14.1% above the median 2,050 but 17% above the least run.
    expect(judge(stats, 2340)).toEqual({ error: expect.closeTo(0.1415, 3), verdict: 'within' });
    expect(judge(stats, 2400).verdict).toBe('outside');
    expect(judge(stats, 1700).verdict).toBe('outside');
    expect(judge(stats, 1760).verdict).toBe('within');
  });

  it('marks a configuration whose runs spread more than 15% unmeasurable, whatever its error', () => {
    const wide = runStats(runs(2455, 2999, 3194, 2900, 3000))!;
    expect(wide.spread).toBeGreaterThan(0.15);
    expect(judge(wide, 3000).verdict).toBe('unmeasurable');
    expect(judge(wide, 9000)).toEqual({ error: expect.closeTo(2, 1), verdict: 'unmeasurable' });
    // Exactly 15% still counts.
    expect(judge(runStats(runs(1000, 1150, 1075))!, 1075).verdict).toBe('within');
  });

  it('calls a configuration with no rate failed', () => {
    expect(judge(null, 1000)).toEqual({ error: null, verdict: 'failed' });
  });

  it('predicts with the median background of the runs that measured one', () => {
    expect(
      typicalBackground([
        { samplesPerSecond: 1, background: 0.5 },
        { samplesPerSecond: 1, background: null },
        { samplesPerSecond: 1, background: 0.1 },
      ]),
    ).toBeCloseTo(0.3);
    expect(typicalBackground([{ samplesPerSecond: 1, background: null }])).toBeUndefined();
  });

  it('counts only measurable configurations in the headline and names what it left out', () => {
    const t = tally(['within', 'outside', 'within', 'unmeasurable', 'within', 'failed']);
    expect([t.within, t.measurable, t.unmeasurable, t.failed]).toEqual([3, 4, 1, 1]);
    expect(t.headline).toBe('3 of 4 measurable configurations within 15%; 1 unmeasurable (repeats spread more than 15%), 1 failed, not counted');
    expect(tally(['within', 'within']).headline).toBe('2 of 2 measurable configurations within 15%');
  });

  it("takes each run's machine speed out of the error by its CPU per step against the model's", () => {
    // Run 1 used the CPU the model charges and ran 10% slower than predicted; run 2 used twice the
    // CPU and ran at half the prediction's rate, so at its own speed it is exact.
    const r = [
      { samplesPerSecond: 900, background: 0, cpuMsPerStep: 20 },
      { samplesPerSecond: 500, background: 0, cpuMsPerStep: 40 },
      { samplesPerSecond: 800, background: 0, cpuMsPerStep: null },
    ];
    const e = errorAtRunSpeed(r, 1000, 20)!;
    expect(e.min).toBeCloseTo(0, 9);
    expect(e.max).toBeCloseTo(1000 / 900 - 1, 9);
    expect(e.median).toBeCloseTo((1000 / 900 - 1) / 2, 9);
    expect(e.cpuRatio).toBeCloseTo(1.5, 9);
    // Errors of 0 and +11.1% spread 10.5% about their median: measurable, and within 15%.
    expect(e.verdict).toBe('within');
    const apart = errorAtRunSpeed([...r, { samplesPerSecond: 700, background: 0, cpuMsPerStep: 20 }], 1000, 20)!;
    expect(apart.max).toBeCloseTo(1000 / 700 - 1, 9);
    expect(apart.verdict).toBe('unmeasurable');
    // Rows of earlier validations have no CPU figures.
    expect(errorAtRunSpeed(runs(1000, 900), 1000, 20)).toBeNull();
    expect(errorAtRunSpeed(r, 1000, 0)).toBeNull();
  });
});

describe('cpuShares', () => {
  const run = (worker: number, ps: number, coordinator: number): RealRun => ({
    samplesPerSecond: 1000,
    background: 0,
    cpuMsPerStep: worker + ps + coordinator,
    cpuMsPerStepByRole: { worker, ps, coordinator },
  });

  it("gives the median of the runs' shares beside the model's, whatever each run's speed", () => {
    // The same 60 / 30 / 10 split at twice the CPU, and one run at 50 / 40 / 10.
    const runs = [run(6, 3, 1), run(12, 6, 2), run(5, 4, 1)];
    expect(cpuShares(runs, { worker: 14, ps: 4, coordinator: 2 })).toBe('60 / 30 / 10 vs 70 / 20 / 10');
  });

  it('leaves out runs without CPU by role, and says null when none has it', () => {
    const old: RealRun = { samplesPerSecond: 1000, background: 0, cpuMsPerStep: 10 };
    expect(cpuShares([old, { ...old, cpuMsPerStepByRole: null }], { worker: 1, ps: 1, coordinator: 0 })).toBeNull();
    expect(cpuShares([old, run(8, 0, 2)], { worker: 9, ps: 0, coordinator: 1 })).toBe('80 / 0 / 20 vs 90 / 0 / 10');
  });
});
