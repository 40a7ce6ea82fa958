import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { Endpoint, Network } from './network.js';

// 1000 MB/s: a megabyte takes 1 ms on a link.
const wire = { latencyMs: 0.1, bandwidthMBps: 1000 };

describe('Network', () => {
  it('delivers a message after its serialisation and the latency', () => {
    const net = new Network(new EventQueue(), wire);
    expect(net.arrival(new Endpoint('a'), new Endpoint('b'), 2e6)).toBeCloseTo(2.1, 12);
  });

  it('queues messages from several senders at the receiver’s incoming link', () => {
    const net = new Network(new EventQueue(), wire);
    const shard = new Endpoint('shard');
    const first = net.arrival(new Endpoint('w0'), shard, 1e6);
    const second = net.arrival(new Endpoint('w1'), shard, 1e6);
    expect(first).toBeCloseTo(1.1, 12);
    expect(second).toBeCloseTo(2.1, 12);
  });

  it('queues messages of one sender at its outgoing link', () => {
    const net = new Network(new EventQueue(), wire);
    const worker = new Endpoint('worker');
    net.arrival(worker, new Endpoint('s0'), 1e6);
    expect(net.arrival(worker, new Endpoint('s1'), 1e6)).toBeCloseTo(2.1, 12);
    expect(worker.bytesOut).toBe(2e6);
  });

  it('resolves a transfer at the arrival time on the virtual clock', async () => {
    const queue = new EventQueue();
    const net = new Network(queue, wire);
    let arrivedAt = -1;
    void net.transfer(new Endpoint('a'), new Endpoint('b'), 5e5).then(() => (arrivedAt = queue.now));
    while (queue.step()) await Promise.resolve();
    expect(arrivedAt).toBeCloseTo(0.6, 12);
  });

  it('refuses a wire without bandwidth', () => {
    expect(() => new Network(new EventQueue(), { latencyMs: 0, bandwidthMBps: 0 })).toThrow(/bandwidth/);
  });
});
