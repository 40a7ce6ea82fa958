import { describe, expect, it } from 'vitest';
import { epochMicros, wallClockOffsetMs } from './trace-events.js';

describe('the trace clock', () => {
  it('takes the offset at the wall clock tick, keeping the reading least delayed', () => {
    // A fake host: the wall clock floors the true time (ms); the monotonic clock is the true time
    // minus 1000. Each monotonic reading comes late by a delay (the process descheduled), which the
    // best of three must see through: the true offset is 1000.
    let t = 5_000.3;
    const delays = [0.4, 0.05, 0.7];
    let reading = 0;
    const clocks = {
      wall: () => {
        t += 0.01;
        return Math.floor(t);
      },
      mono: () => {
        t += delays[reading++ % delays.length]!;
        return t - 1000;
      },
    };
    const offset = wallClockOffsetMs(clocks);
    // Each reading is 1000 less the wall's floor gap (< 0.01 ms just after a tick) and its delay.
    expect(offset).toBeLessThanOrEqual(1000);
    expect(offset).toBeGreaterThan(1000 - 0.05 - 0.02);
  });

  it('reads as the wall clock at microsecond resolution: within a millisecond of Date.now() (the closest of five readings)', () => {
    const gaps = Array.from({ length: 5 }, () => {
      const wall = Date.now();
      return epochMicros() / 1000 - wall;
    });
    const closest = gaps.reduce((a, b) => (Math.abs(b) < Math.abs(a) ? b : a));
    expect(Math.abs(closest)).toBeLessThan(1.05);
  });
});
