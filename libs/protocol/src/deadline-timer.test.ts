import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTimer } from './deadline-timer.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineTimer', () => {
  it('expires each key at its own deadline, earliest first, whatever the order of adding', () => {
    const expired: [string, number][] = [];
    const timer = new DeadlineTimer<string>((key) => expired.push([key, Date.now()]));
    timer.add('slow', 300);
    timer.add('fast', 100);
    vi.advanceTimersByTime(50);
    timer.add('middle', 150); // due at 200
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual([
      ['fast', 100],
      ['middle', 200],
      ['slow', 300],
    ]);
  });

  it('never expires a deleted key, and clear() forgets everything', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<string>((key) => expired.push(key));
    timer.add('answered', 100);
    timer.add('lost', 200);
    timer.delete('answered');
    vi.advanceTimersByTime(150);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['lost']);
    timer.add('dropped', 100);
    timer.clear();
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(['lost']);
  });

  it('keeps one timer for many deadlines', () => {
    const timer = new DeadlineTimer<number>(() => undefined);
    for (let key = 0; key < 100; key++) timer.add(key, 1000 + key);
    expect(vi.getTimerCount()).toBe(1);
  });
});
