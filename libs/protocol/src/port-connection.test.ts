import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { connectPort } from './port-connection.js';
import type { Connection } from './connection.js';
import type { ProtocolError } from './errors.js';

const P = 6;
const ends = (): { worker: Connection; ps: Connection } => {
  const { port1, port2 } = new MessageChannel();
  const worker = { role: 'worker' as const, name: 'w', validateOptions: { paramCount: P } };
  const ps = { role: 'ps' as const, name: 'ps-0', validateOptions: { paramCount: P } };
  return { worker: connectPort(port1, worker, ps, 'job'), ps: connectPort(port2, ps, worker, 'job') };
};

describe('connectPort', () => {
  it("answers a pull across the port; the tensor received is the receiver's own, the peer is described", async () => {
    const { worker, ps } = ends();
    const sent = Float32Array.from({ length: P }, (_, i) => i + 0.5);
    ps.on('message', (msg) => {
      if (msg.type === 'pull') void ps.reply(msg, { type: 'params', version: 3, step: msg.step ?? 0, offset: 0, values: sent });
    });
    const params = await worker.request({ type: 'pull', step: 2 });
    expect([...params.values]).toEqual([...sent]);
    params.values[0] = 99;
    expect(sent[0]).toBe(0.5);
    expect(worker.peer).toMatchObject({ role: 'ps', name: 'ps-0', jobId: 'job', address: 'thread port' });
    expect(ps.peer).toMatchObject({ role: 'worker', name: 'w' });
    worker.close();
  });

  it('validates what crosses: a gradient of the wrong length is refused with an error reply', async () => {
    const { worker, ps } = ends();
    const rejected = new Promise<ProtocolError>((resolve) => ps.once('rejected', resolve));
    const push = worker.request({
      type: 'push',
      step: 0,
      microBatchId: 0,
      version: 0,
      generation: 0,
      offset: 0,
      grads: new Float32Array(P + 1),
      loss: 1,
      samples: 1,
    });
    await expect(push).rejects.toMatchObject({ code: 'E_BAD_LENGTH' });
    expect((await rejected).code).toBe('E_BAD_LENGTH');
    worker.close();
  });

  it("closes both ends on either end's close, and fails pending requests", async () => {
    const { worker, ps } = ends();
    const psClosed = new Promise<number>((resolve) => ps.once('close', resolve));
    const pending = worker.request({ type: 'pull', step: 0 });
    worker.close(1000, 'done');
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(await psClosed).toBe(1000);
    expect(worker.isOpen || ps.isOpen).toBe(false);
  });

  it('closes when the thread holding the other end ends', async () => {
    const { port1, port2 } = new MessageChannel();
    const self = { role: 'worker' as const, validateOptions: { paramCount: P } };
    const worker = connectPort(port1, self, { role: 'ps' }, 'job');
    const closed = new Promise<number>((resolve) => worker.once('close', resolve));
    // A thread that takes the port and ends at once.
    const thread = new Worker("require('node:worker_threads').parentPort.once('message', () => process.exit(0))", { eval: true });
    thread.postMessage(port2, [port2]);
    expect(await closed).toBe(1006);
  });
});
