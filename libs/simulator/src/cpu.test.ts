import { describe, expect, it } from 'vitest';
import { Host, Process } from './cpu.js';
import { EventQueue } from './event-queue.js';

function finishTimes(queue: EventQueue, host: Host, works: number[]): number[] {
  const done: number[] = new Array(works.length).fill(Number.NaN);
  works.forEach((w, i) => new Process(`p${i}`, host).run(w, () => (done[i] = queue.now)));
  while (queue.step());
  return done;
}

describe('Host and Process (processor sharing)', () => {
  it('runs a lone process at one core’s speed, however many cores there are', () => {
    const queue = new EventQueue();
    expect(finishTimes(queue, new Host(queue, 2), [3])).toEqual([3]);
  });

  it('shares two cores among three busy processes, and speeds the rest up when one finishes', () => {
    const queue = new EventQueue();
    // Rates 2/3 until the 1 ms job ends at 1.5 ms; the others then run at full speed.
    const [a, b, c] = finishTimes(queue, new Host(queue, 2), [1, 2, 2]);
    expect(a).toBeCloseTo(1.5, 9);
    expect(b).toBeCloseTo(2.5, 9);
    expect(c).toBeCloseTo(2.5, 9);
  });

  it('counts background load as busy processes', () => {
    const queue = new EventQueue();
    expect(finishTimes(queue, new Host(queue, 2, 2), [1])[0]).toBeCloseTo(1.5, 9);
  });

  it('runs one process’s work in order, urgent work first', () => {
    const queue = new EventQueue();
    const p = new Process('ps', new Host(queue, 1));
    const order: string[] = [];
    p.run(1, () => {
      order.push('first');
      p.run(1, () => order.push('reply'), true);
    });
    p.run(1, () => order.push('next request'));
    while (queue.step());
    expect(order).toEqual(['first', 'reply', 'next request']);
    expect(queue.now).toBe(3);
  });
});
