import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from './connection.js';
import { ProtocolError } from './errors.js';
import type { LogRecord } from '@dptrain/log';
import type { Message, MessageOf, Outgoing } from './messages.js';
import { createMemoryPair, type MemoryEndOptions } from './memory-pair.js';

const P = 6;

function pair(worker: Partial<MemoryEndOptions> = {}, ps: Partial<MemoryEndOptions> = {}) {
  const workerLog: LogRecord[] = [];
  const psLog: LogRecord[] = [];
  const made = createMemoryPair({
    a: { role: 'worker', validateOptions: { paramCount: P }, log: (r) => workerLog.push(r), ...worker },
    b: { role: 'ps', validateOptions: { paramCount: P }, log: (r) => psLog.push(r), ...ps },
  });
  return { worker: made.a, ps: made.b, inject: made.inject, workerLog, psLog };
}

function nextMessage(connection: Connection): Promise<Message> {
  return new Promise((resolve) => connection.once('message', resolve));
}

const pushOf = (grads: Float32Array, microBatchId = 0): Outgoing<'push'> => ({
  type: 'push',
  step: 1,
  microBatchId,
  version: 1,
  generation: 0,
  offset: 0,
  grads,
  loss: 0.25,
  samples: 4,
});

/** A parameter server answering pulls with values [v, v+1, …] and acknowledging pushes. */
function servePs(ps: Connection, firstValue = 10): void {
  ps.on('message', (msg) => {
    if (msg.type === 'pull') {
      const values = Float32Array.from({ length: P }, (_, i) => firstValue + i);
      void ps.reply(msg, { type: 'params', version: 1, step: msg.step ?? 0, offset: 0, values });
    } else if (msg.type === 'push') {
      void ps.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
    }
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Connection request/reply', () => {
  it('answers a pull with params, and the received tensor does not alias the sender', async () => {
    const { worker, ps } = pair();
    const sent = Float32Array.from([1, 2, 3, 4, 5, 6]);
    ps.on('message', (msg) => {
      if (msg.type === 'pull') void ps.reply(msg, { type: 'params', version: 2, step: 1, offset: 0, values: sent });
    });
    const params = await worker.request({ type: 'pull', step: 1 });
    expect(params.type).toBe('params');
    expect(params.re).toBe(0);
    expect([...params.values]).toEqual([1, 2, 3, 4, 5, 6]);
    params.values[0] = 99;
    expect(sent[0]).toBe(1);
    expect(worker.stats.framesOut).toBe(1);
    expect(worker.stats.framesIn).toBe(1);
  });

  it('matches replies to requests by seq when they arrive out of order', async () => {
    const { worker, ps } = pair();
    const held: MessageOf<'push'>[] = [];
    ps.on('message', (msg) => {
      if (msg.type !== 'push') return;
      held.push(msg);
      if (held.length === 2) {
        for (const m of [held[1], held[0]]) {
          void ps.reply(m, { type: 'pushAck', step: m.step, microBatchId: m.microBatchId, status: m.microBatchId === 7 ? 'accepted' : 'duplicate' });
        }
      }
    });
    const [first, second] = await Promise.all([worker.request(pushOf(new Float32Array(P), 7)), worker.request(pushOf(new Float32Array(P), 8))]);
    expect([first.microBatchId, first.status]).toEqual([7, 'accepted']);
    expect([second.microBatchId, second.status]).toEqual([8, 'duplicate']);
  });

  it('rejects a request with the code of the error the peer replied', async () => {
    const { worker, ps } = pair();
    ps.on('message', (msg) => {
      void ps.replyError(msg, new ProtocolError('E_STALE', 'version 1 is 5 behind version 6'));
    });
    const error = await worker.request(pushOf(new Float32Array(P))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('E_STALE');
    expect((error as ProtocolError).remote).toBe(true);
    expect((error as ProtocolError).message).toBe('E_STALE: version 1 is 5 behind version 6 (help: pull fresh parameters and compute the gradient again)');
  });

  it('rejects a reply that answers another micro-batch', async () => {
    const { worker, ps } = pair();
    ps.on('message', (msg) => {
      if (msg.type === 'push') void ps.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId + 1, status: 'accepted' });
    });
    await expect(worker.request(pushOf(new Float32Array(P), 3))).rejects.toMatchObject({ code: 'E_MALFORMED' });
  });

  it('refuses to answer a request with the wrong reply type', async () => {
    const { worker, ps } = pair();
    const received = nextMessage(ps);
    void worker.request({ type: 'pull', step: 0 }, { timeoutMs: 50 }).catch(() => undefined);
    const pull = await received;
    expect(() => ps.reply(pull, { type: 'pushAck', step: 0, microBatchId: 0, status: 'accepted' })).toThrow(
      /E_MALFORMED: pushAck cannot answer pull; its reply type is params/,
    );
  });
});

describe('Connection refusals', () => {
  it('answers a wrong-length push with E_BAD_LENGTH, logs it, and keeps serving', async () => {
    const { worker, ps, psLog } = pair();
    servePs(ps);
    const rejected: ProtocolError[] = [];
    ps.on('rejected', (error) => rejected.push(error));
    const error = await worker.request(pushOf(new Float32Array(P - 1))).catch((e: unknown) => e);
    expect((error as ProtocolError).code).toBe('E_BAD_LENGTH');
    expect(rejected.map((e) => e.code)).toEqual(['E_BAD_LENGTH']);
    expect(psLog.filter((r) => r.event === 'message-refused').map((r) => r.code)).toEqual(['E_BAD_LENGTH']);
    expect(ps.stats.rejected).toBe(1);
    const ack = await worker.request(pushOf(new Float32Array(P)));
    expect(ack.status).toBe('accepted');
  });

  it('answers NaN gradients with E_NON_FINITE naming the index', async () => {
    const { worker, ps } = pair();
    servePs(ps);
    const grads = new Float32Array(P);
    grads[4] = NaN;
    await expect(worker.request(pushOf(grads))).rejects.toThrow(/E_NON_FINITE: push.grads\[4\] is NaN/);
  });

  it('refuses messages the sender role may not send (E_ROLE)', async () => {
    const { worker, ps } = pair();
    const rejected = new Promise<ProtocolError>((resolve) => ps.once('rejected', resolve));
    void worker.send({ type: 'leaseRevoked', leaseId: 0, reason: 'forged' });
    const error = await rejected;
    expect(error.code).toBe('E_ROLE');
    expect(error.message).toContain('a worker may not send leaseRevoked (senders: coordinator)');
  });

  it('closes with the last error code after maxProtocolErrors invalid frames', async () => {
    const { worker, ps, inject } = pair({}, { maxProtocolErrors: 3 });
    const closed = new Promise<[number, string]>((resolve) => worker.once('close', (code, reason) => resolve([code, reason])));
    const garbage = new Uint8Array([1, 2, 3]);
    for (let i = 0; i < 3; i++) inject(ps, garbage);
    // E_MALFORMED closes with 4006.
    expect(await closed).toEqual([4006, '3 invalid messages, last E_MALFORMED']);
    expect(ps.isOpen).toBe(false);
  });

  it('refuses to send a frame bigger than the peer accepts (E_TOO_LARGE), before sending', () => {
    const { worker } = pair({}, { maxPayload: 1024 });
    expect(() => worker.send(pushOf(new Float32Array(300)))).toThrow(/E_TOO_LARGE: push frame of \d+ bytes exceeds the maxPayload 1024/);
    expect(worker.stats.framesOut).toBe(0);
  });

  it('counts the one copy made for frames delivered at an unaligned offset', async () => {
    const { worker, ps } = pair({}, { misalign: true });
    servePs(ps);
    await worker.request(pushOf(new Float32Array(P)));
    await worker.request(pushOf(new Float32Array(P), 1));
    expect(ps.stats.unalignedCopies).toBe(2);
    expect(worker.stats.unalignedCopies).toBe(0);
  });
});

describe('Connection failures of handlers, time and links', () => {
  it('turns a throwing handler into an E_INTERNAL reply and carries on', async () => {
    const { worker, ps, psLog } = pair();
    let calls = 0;
    ps.on('message', (msg) => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      if (msg.type === 'push') void ps.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
    });
    await expect(worker.request(pushOf(new Float32Array(P)))).rejects.toThrow(/E_INTERNAL: handling push seq 0 failed: disk full/);
    expect(psLog.some((r) => r.event === 'handler-failed' && r.message === 'disk full')).toBe(true);
    expect((await worker.request(pushOf(new Float32Array(P)))).status).toBe('accepted');
  });

  it('turns a rejected async handler into an E_INTERNAL reply', async () => {
    const { worker, ps } = pair();
    ps.on('message', async () => {
      await Promise.resolve();
      throw new Error('optimizer state missing');
    });
    await expect(worker.request(pushOf(new Float32Array(P)))).rejects.toThrow(/E_INTERNAL: .*optimizer state missing/);
  });

  it('times a request out with E_TIMEOUT and counts the late reply it drops', async () => {
    vi.useFakeTimers();
    const { worker, ps, workerLog } = pair();
    const held: MessageOf<'pull'>[] = [];
    ps.on('message', (msg) => {
      if (msg.type === 'pull') held.push(msg);
    });
    let outcome: unknown = 'pending';
    worker.request({ type: 'pull', step: 0 }, { timeoutMs: 1000 }).then(
      (reply) => (outcome = reply),
      (error: unknown) => (outcome = error),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((outcome as ProtocolError).code).toBe('E_TIMEOUT');
    expect((outcome as ProtocolError).message).toContain('pull seq 0 got no params from ps at memory within 1000 ms');
    void ps.reply(held[0], { type: 'params', version: 0, step: 0, offset: 0, values: new Float32Array(P) });
    await vi.advanceTimersByTimeAsync(0);
    expect(worker.stats.lateReplies).toBe(1);
    expect(workerLog.some((r) => r.event === 'late-reply')).toBe(true);
  });

  it('rejects pending requests with E_CLOSED when the link closes, and send() then resolves false', async () => {
    const { worker, ps } = pair();
    const pending = worker.request({ type: 'pull', step: 0 });
    const closed = new Promise<[number, string]>((resolve) => ps.once('close', (code, reason) => resolve([code, reason])));
    ps.close(1001, 'going away');
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(await closed).toEqual([1001, 'going away']);
    expect(await worker.send({ type: 'heartbeat', workerId: 0, generation: 0, sentAtMs: 0 })).toBe(false);
    await expect(worker.request({ type: 'status' })).rejects.toMatchObject({ code: 'E_CLOSED' });
  });
});
