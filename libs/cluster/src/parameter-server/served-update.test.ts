import type { Connection, Message, MessageOf, Outgoing } from '@dptrain/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tinyJob } from '../testing.js';
import { ParameterServer, SETTLE_WAIT_MS, type AppliedReport } from './parameter-server.js';

/** A connection whose replies are written when the test says so (never, unless `write` is called). */
function peer(): { connection: Connection; replies: Outgoing[]; write: () => void } {
  const replies: Outgoing[] = [];
  const pending: ((ok: boolean) => void)[] = [];
  const connection = {
    isOpen: true,
    reply: (_to: Message, msg: Outgoing) => {
      replies.push(msg);
      return new Promise<boolean>((resolve) => pending.push(resolve));
    },
    replyError: () => Promise.resolve(true),
  } as unknown as Connection;
  return { connection, replies, write: () => pending.splice(0).forEach((resolve) => resolve(true)) };
}

const job = tinyJob(); // MLP 3-4-2: 26 parameters, M = 4 micro-batches per step
const P = 26;
let seq = 0;

function pull(step: number): MessageOf<'pull'> {
  return { type: 'pull', seq: seq++, step };
}

function push(step: number, id: number): MessageOf<'push'> {
  const grads = Float32Array.from({ length: P }, (_, i) => ((id + 1) * (i - 12)) / 64);
  return { type: 'push', seq: seq++, step, microBatchId: id, version: step, generation: 0, offset: 0, grads, loss: 0.5, samples: 2 };
}

function shard(): { ps: ParameterServer; applied: AppliedReport[] } {
  const applied: AppliedReport[] = [];
  return { ps: new ParameterServer({ job, shard: 0, onApplied: (report) => applied.push(report) }), applied };
}

/** Step 0 from `worker`'s four pushes, with `waiting`'s pull of step 1 held until the update. */
function stepZero(ps: ParameterServer, worker: Connection, waiting: Connection): void {
  ps.handle(waiting, pull(1));
  for (const id of [0, 1, 2, 3]) ps.handle(worker, push(0, id));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ParameterServer: an update is served before it is reported', () => {
  it('answers the held pull at once and reports the update (stepApplied) once that reply is written', async () => {
    const { ps, applied } = shard();
    const worker = peer();
    const waiting = peer();
    stepZero(ps, worker.connection, waiting.connection);
    expect(ps.version).toBe(1);
    expect(waiting.replies).toEqual([expect.objectContaining({ type: 'params', version: 1, step: 1 })]);
    expect(applied).toEqual([]);
    waiting.write();
    await Promise.resolve();
    await Promise.resolve();
    expect(applied).toEqual([expect.objectContaining({ step: 0, version: 1, microBatchIds: [0, 1, 2, 3] })]);
    expect(applied[0].gradNorm).toBeGreaterThan(0);
  });

  it('settles first when a message arrives before the replies are written', () => {
    const { ps, applied } = shard();
    const worker = peer();
    const waiting = peer();
    stepZero(ps, worker.connection, waiting.connection);
    expect(applied).toEqual([]);
    ps.handle(worker.connection, push(1, 0));
    expect(applied.map((a) => a.step)).toEqual([0]);
    expect(ps.status().accepted).toBe(5);
  });

  it(`reports after ${SETTLE_WAIT_MS} ms when a reply is never written (a peer that stopped reading)`, () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { ps, applied } = shard();
    stepZero(ps, peer().connection, peer().connection);
    vi.advanceTimersByTime(SETTLE_WAIT_MS - 1);
    expect(applied).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(applied.map((a) => a.step)).toEqual([0]);
  });
});
