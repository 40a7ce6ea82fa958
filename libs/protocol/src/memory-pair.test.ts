import { describe, expect, it } from 'vitest';
import type { Message } from './messages.js';
import { createMemoryPair } from './memory-pair.js';

describe('createMemoryPair', () => {
  it('delivers in order, asynchronously, and closes both ends after pending frames', async () => {
    const { a, b } = createMemoryPair({ a: { role: 'coordinator' }, b: { role: 'worker' } });
    const received: number[] = [];
    const events: string[] = [];
    b.on('message', (msg: Message) => {
      if (msg.type === 'lease') received.push(msg.leaseId);
    });
    b.on('close', (code) => events.push(`b closed ${code}`));
    a.on('close', (code) => events.push(`a closed ${code}`));
    for (let leaseId = 0; leaseId < 5; leaseId++) {
      void a.send({ type: 'lease', leaseId, step: 0, microBatchIds: [leaseId], modelVersion: 0, deadlineMs: 1000 });
    }
    expect(received).toEqual([]);
    a.close(1000, 'done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([0, 1, 2, 3, 4]);
    expect(events).toEqual(['a closed 1000', 'b closed 1000']);
    expect(a.isOpen || b.isOpen).toBe(false);
  });

  it('tells each end its peer, and refuses to inject into a stranger', () => {
    const pair = createMemoryPair({ a: { role: 'worker', name: 'w' }, b: { role: 'ps' }, jobId: 'j' });
    expect(pair.a.peer).toMatchObject({ role: 'ps', jobId: 'j', address: 'memory' });
    expect(pair.b.peer).toMatchObject({ role: 'worker', name: 'w' });
    const other = createMemoryPair({ a: { role: 'worker' }, b: { role: 'ps' } });
    expect(() => pair.inject(other.a, new Uint8Array(8))).toThrow(/not an end of this pair/);
  });
});
