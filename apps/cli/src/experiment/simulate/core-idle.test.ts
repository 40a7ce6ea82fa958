import { describe, expect, it } from 'vitest';
import { describeCoreIdle, modelIdleByCore } from './core-idle.js';

describe('modelIdleByCore', () => {
  it('reads each core’s idle time per step over the steps a real run’s CPU is read from', () => {
    // 21 steps 10 ms apart; core 0 busy 9 ms of each, core 1 busy 4 ms of each.
    const coresAtStep = Array.from({ length: 21 }, (_, i) => ({ atMs: 10 * (i + 1), busyMs: [9 * (i + 1), 4 * (i + 1)] }));
    expect(modelIdleByCore(coresAtStep)!.map((v) => +v.toFixed(9))).toEqual([1, 6]);
    // Steps 6..17 of them (30% and 85%): a burst of idle before step 6 is outside.
    const burst = coresAtStep.map((s, i) => (i < 6 ? { ...s } : { atMs: s.atMs + 50, busyMs: s.busyMs }));
    expect(modelIdleByCore(burst)!.map((v) => +v.toFixed(9))).toEqual([1, 6]);
  });

  it('says nothing for dedicated machines or a run of one step', () => {
    expect(modelIdleByCore(null)).toBeNull();
    expect(modelIdleByCore([{ atMs: 5, busyMs: [1, 2] }])).toBeNull();
  });
});

describe('describeCoreIdle', () => {
  it('puts the runs’ median, core by core, beside the model’s', () => {
    expect(
      describeCoreIdle(
        [
          [1.4, 5.1],
          [2.0, 4.0],
          [1.0, 6.0],
        ],
        [0.44, 3.86],
      ),
    ).toBe('1.4 · 5.1 vs 0.4 · 3.9');
  });

  it('leaves out runs without the figure or with another number of cores, and says nothing without any', () => {
    expect(describeCoreIdle([null, [2, 3], [1, 2, 3]], [1, 1])).toBe('2.0 · 3.0 vs 1.0 · 1.0');
    expect(describeCoreIdle([null, undefined], [1, 1])).toBeNull();
    expect(describeCoreIdle([[1, 2]], null)).toBeNull();
  });
});
