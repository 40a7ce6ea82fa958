import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '@dptrain/random';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('fires events in time order, ties in scheduling order, and the clock never runs backwards', () => {
    const queue = new EventQueue();
    const random = new Mulberry32(7);
    const scheduled: { at: number; id: number }[] = [];
    for (let id = 0; id < 500; id++) {
      const at = random.nextUint32() % 50; // many ties
      scheduled.push({ at, id });
      queue.at(at, () => fired.push({ at: queue.now, id }));
    }
    const fired: { at: number; id: number }[] = [];
    while (queue.step()) expect(fired[fired.length - 1].at).toBe(queue.now);
    const expected = [...scheduled].sort((a, b) => a.at - b.at || a.id - b.id);
    expect(fired).toEqual(expected);
    for (let i = 1; i < fired.length; i++) expect(fired[i].at).toBeGreaterThanOrEqual(fired[i - 1].at);
  });

  it('runs events an event schedules, at or after its own time', () => {
    const queue = new EventQueue();
    const times: number[] = [];
    queue.at(5, () => {
      times.push(queue.now);
      queue.after(0, () => times.push(queue.now));
      queue.after(2.5, () => times.push(queue.now));
    });
    queue.at(6, () => times.push(queue.now));
    while (queue.step());
    expect(times).toEqual([5, 5, 6, 7.5]);
  });

  it('refuses an event in the past, and skips cancelled ones', () => {
    const queue = new EventQueue();
    const fired: string[] = [];
    queue.at(10, () => fired.push('a'));
    queue.at(12, () => fired.push('b')).cancel();
    queue.step();
    expect(() => queue.at(9, () => undefined)).toThrow(/before the virtual clock/);
    expect(() => queue.at(Number.NaN, () => undefined)).toThrow(RangeError);
    expect(queue.step()).toBe(false);
    expect(fired).toEqual(['a']);
    expect(queue.now).toBe(10);
  });
});
