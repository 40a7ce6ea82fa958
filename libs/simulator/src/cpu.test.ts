import { describe, expect, it } from 'vitest';
import { defaultSliceMs, Host, Process } from './cpu.js';
import { EventQueue } from './event-queue.js';

function finishTimes(queue: EventQueue, host: Host, works: number[]): number[] {
  const done: number[] = new Array(works.length).fill(Number.NaN);
  works.forEach((w, i) => new Process(`p${i}`, host).run(w, () => (done[i] = queue.now)));
  while (queue.step());
  return done;
}

describe('Host (time slices) and Process', () => {
  it('runs a lone process at one core’s speed, however many cores there are', () => {
    const queue = new EventQueue();
    expect(finishTimes(queue, new Host(queue, 2), [3])).toEqual([3]);
  });

  it('counts each core’s busy time, a running slice up to now, as /proc/stat counts a CPU’s', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 2, 0, 1);
    new Process('a', host, 0).run(3, () => undefined);
    new Process('b', host, 0).run(2, () => undefined);
    new Process('c', host, 1).run(1, () => undefined);
    queue.after(2.5, () => expect(host.busyMs()).toEqual([2.5, 1]));
    while (queue.step());
    expect(queue.now).toBe(5);
    expect(host.busyMs()).toEqual([5, 1]);
  });

  it('takes the kernel’s default slice: 0.75 ms × (1 + log2 cores)', () => {
    expect([1, 2, 4, 8].map(defaultSliceMs)).toEqual([0.75, 1.5, 2.25, 3]);
  });

  it('gives a free core at once; a thread that finds every core busy waits for the running slice to end', () => {
    const queue = new EventQueue();
    // A runs [0, 1); B takes the core at A's slice end and finishes at 2; A runs again [2, 4).
    expect(finishTimes(queue, new Host(queue, 1, 0, 1), [3, 1])).toEqual([4, 2]);
  });

  it('lets a thread run on past its slice when nothing waits', () => {
    const queue = new EventQueue();
    expect(finishTimes(queue, new Host(queue, 2, 0, 1), [3, 2.5])).toEqual([3, 2.5]);
  });

  it('serves threads that woke before threads it preempted', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 1, 0, 1);
    const done: Record<string, number> = {};
    new Process('a', host).run(5, () => (done.a = queue.now));
    new Process('b', host).run(2, () => (done.b = queue.now));
    queue.after(1.5, () => new Process('c', host).run(0.5, () => (done.c = queue.now)));
    while (queue.step());
    // a [0,1), b [1,2), c woke at 1.5 and goes before the preempted a and b: [2, 2.5); then a [2.5, 3.5), b [3.5, 4.5), a to the end.
    expect(done).toEqual({ c: 2.5, b: 4.5, a: 7.5 });
  });

  it('lets a process carry on with its queued work within the slice it began, then gives the core to a thread that woke meanwhile', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 1, 0, 1);
    const p = new Process('p', host);
    const done: string[] = [];
    for (const name of ['p1', 'p2', 'p3']) p.run(0.6, () => done.push(`${name}@${queue.now.toFixed(1)}`));
    queue.after(0.1, () => new Process('q', host).run(0.5, () => done.push(`q@${queue.now.toFixed(1)}`)));
    while (queue.step());
    // p's slice is [0, 1) across p1 and p2; q, woken at 0.1, runs [1, 1.5); p2 ends [1.5, 1.7), p3 [1.7, 2.3).
    // Were each piece of work a slice of its own, q would wait for all of p's: q@2.3.
    expect(done).toEqual(['p1@0.6', 'q@1.5', 'p2@1.7', 'p3@2.3']);
  });

  it('starts a carrying-on process’s next work in a new slice when its slice is spent and nothing waits', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 1, 0, 1);
    const p = new Process('p', host);
    const done: number[] = [];
    p.run(1, () => done.push(queue.now));
    p.run(0.8, () => done.push(queue.now));
    queue.after(1.2, () => new Process('q', host).run(0.1, () => done.push(queue.now)));
    while (queue.step());
    // The second piece began at 1, a new slice [1, 2): q, woken at 1.2, waits for its end.
    expect(done.map((t) => t.toFixed(1))).toEqual(['1.0', '1.8', '1.9']);
  });

  it('counts background load as threads that want a core: whole ones always, a fraction part of the time', () => {
    let queue = new EventQueue();
    // Two background threads hold both cores until their slices end at 1.
    let host = new Host(queue, 2, 2, 1);
    const first: number[] = [];
    new Process('p', host).run(1, () => first.push(queue.now));
    for (let i = 0; i < 20 && first.length === 0; i++) queue.step();
    expect(first).toEqual([2]);
    queue = new EventQueue();
    // Half a busy thread on one core: a 2 ms job gets every other slice and ends at 4.
    host = new Host(queue, 1, 0.5, 1);
    const second: number[] = [];
    new Process('p', host).run(2, () => second.push(queue.now));
    for (let i = 0; i < 40 && second.length === 0; i++) queue.step();
    expect(second).toEqual([4]);
  });

  it('runs a pinned process on its core only: it waits for that core while another is free, which unpinned work takes', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 2, 0, 1);
    const done: Record<string, number> = {};
    new Process('a', host, 0).run(2, () => (done.a = queue.now));
    new Process('b', host, 0).run(1, () => (done.b = queue.now));
    new Process('free', host).run(1, () => (done.free = queue.now));
    while (queue.step());
    // a [0,1) on core 0, b waits for core 0 though core 1 is free: [1,2); a again [2,3); free on core 1 at once.
    expect(done).toEqual({ a: 3, b: 2, free: 1 });
  });

  it('keeps a pinned process’s helper threads on its core, and refuses a core the host does not have', () => {
    const queue = new EventQueue();
    const host = new Host(queue, 2, 0, 1);
    const p = new Process('p', host, 1);
    let mainDone = Number.NaN;
    p.helpers(1);
    p.run(1, () => (mainDone = queue.now));
    while (queue.step());
    // The helper burst holds core 1 for its slice; the main thread waits for core 1, not core 0.
    expect(mainDone).toBe(2);
    expect(() => new Process('q', host, 2).run(1, () => undefined)).toThrow(/core 2 is not one of this host's 2 cores/);
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
