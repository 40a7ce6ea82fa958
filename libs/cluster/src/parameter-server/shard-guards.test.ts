import { createMemoryPair, isProtocolError, MIN_PEER_MAX_PAYLOAD, type Connection } from '@dptrain/protocol';
import { describe, expect, it } from 'vitest';
import { LeaseTickets } from '../lease-ticket.js';
import { tinyJob } from '../testing.js';
import { MAX_HELD_PULLS, ParameterServer, type AppliedReport, type StepRefusal } from './parameter-server.js';

// What a shard refuses from a peer holding the token: pushes without a lease ticket, steps whose
// sum overflows float32, pulls parked without bound. M = 4 micro-batches per step, P = 26.
const P = 26;
const tickets = new LeaseTickets('shard-guards-test-secret', 'job');

function serve(options: { tickets?: LeaseTickets } = {}): { ps: ParameterServer; worker: Connection; refusals: StepRefusal[] } {
  const refusals: StepRefusal[] = [];
  const ps = new ParameterServer({ job: tinyJob(), shard: 0, onRefused: (r) => refusals.push(r), ...options });
  const pair = createMemoryPair({ a: { role: 'worker', validateOptions: { paramCount: P } }, b: { role: 'ps', validateOptions: ps.validateOptions(P) } });
  ps.attach(pair.b);
  return { ps, worker: pair.a, refusals };
}

const grads = (value: number): Float32Array => new Float32Array(P).fill(value);
const push = (worker: Connection, id: number, extra: { leaseId?: number; ticket?: string } = {}, values = grads(0.25)) =>
  worker.request({ type: 'push', step: 0, microBatchId: id, version: 0, generation: 0, offset: 0, grads: values, loss: 0.5, samples: 2, ...extra });
const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (e: unknown) => (isProtocolError(e) ? e.code : String(e)),
  );

describe('ParameterServer guards', () => {
  it('with tickets, takes a push only with the ticket of its lease for its step and micro-batch', async () => {
    const { ps, worker } = serve({ tickets });
    const lease = tickets.mintLease(0, [0, 1, 2, 3], 7);
    const refused = await Promise.all([
      codeOf(push(worker, 0)),
      codeOf(push(worker, 0, { leaseId: 7, ticket: lease[1] })),
      codeOf(push(worker, 0, { leaseId: 8, ticket: lease[0] })),
      codeOf(
        worker.request({
          type: 'pushRun',
          step: 0,
          microBatchId: 0,
          count: 2,
          version: 0,
          generation: 0,
          offset: 0,
          grads: grads(0.5),
          losses: [0.5, 0.5],
          leaseId: 7,
          tickets: [lease[0]!],
        }),
      ),
    ]);
    expect(refused).toEqual(['E_TICKET', 'E_TICKET', 'E_TICKET', 'E_TICKET']);
    expect(ps.counters).toMatchObject({ unticketed: 4, accepted: 0 });
    const run = await worker.request({
      type: 'pushRun',
      step: 0,
      microBatchId: 0,
      count: 2,
      version: 0,
      generation: 0,
      offset: 0,
      grads: grads(0.5),
      losses: [0.5, 0.5],
      leaseId: 7,
      tickets: lease.slice(0, 2),
    });
    expect(run.status).toBe('accepted');
    for (const id of [2, 3]) expect((await push(worker, id, { leaseId: 7, ticket: lease[id] })).status).toBe('accepted');
    expect(ps.version).toBe(1);
  });

  it('refuses a step whose finite pushes sum past float32, changing nothing, and tells the coordinator; then serves nothing', async () => {
    const { ps, worker, refusals } = serve();
    const before = ps.params.slice();
    const waiting = codeOf(worker.request({ type: 'pull', step: 1 }));
    for (const id of [0, 1, 2, 3]) expect((await push(worker, id, {}, grads(3e38))).status).toBe('accepted');
    expect(refusals).toEqual([{ step: 0, version: 0, reason: expect.stringMatching(/the mean gradient of step 0 is not finite/) }]);
    expect(ps.version).toBe(0);
    expect(Buffer.from(ps.params.buffer, ps.params.byteOffset, ps.params.byteLength).equals(Buffer.from(before.buffer))).toBe(true);
    expect(await waiting).toBe('E_NON_FINITE');
    expect(await codeOf(worker.request({ type: 'pull', step: 0 }))).toBe('E_NON_FINITE');
  });

  it('holds at most MAX_HELD_PULLS pulls per connection, and none for a step beyond the next two', async () => {
    const { ps, worker } = serve();
    const held = Array.from({ length: MAX_HELD_PULLS }, () => worker.request({ type: 'pull', step: 1 }));
    expect(await codeOf(worker.request({ type: 'pull', step: 1 }))).toBe('E_LIMIT');
    expect(await codeOf(worker.request({ type: 'pull', step: 3 }))).toBe('E_RANGE');
    for (const id of [0, 1, 2, 3]) await push(worker, id);
    expect((await Promise.all(held)).map((r) => r.version)).toEqual(new Array(MAX_HELD_PULLS).fill(1));
    expect(ps.version).toBe(1);
  });

  it('answers every waiting pull when one peer cannot take its reply: that connection alone is closed (1009)', async () => {
    // 72,002 parameters: a params frame of 288 KB, over the smallest bound a peer may declare.
    const job = tinyJob({ hidden: [12_000] });
    const applied: AppliedReport[] = [];
    const ps = new ParameterServer({ job, shard: 0, onApplied: (a) => applied.push(a) });
    const count = ps.paramCount;
    const open = (maxPayload?: number): Connection => {
      const pair = createMemoryPair({
        a: { role: 'worker', validateOptions: { paramCount: count }, ...(maxPayload ? { maxPayload } : {}) },
        b: { role: 'ps', validateOptions: ps.validateOptions(count) },
      });
      ps.attach(pair.b);
      return pair.a;
    };
    const [honest, small] = [open(), open(MIN_PEER_MAX_PAYLOAD)];
    const closed = new Promise<number>((resolve) => small.once('close', (code) => resolve(code)));
    const parked = codeOf(small.request({ type: 'pull', step: 1 }));
    const next = honest.request({ type: 'pull', step: 1 });
    for (const id of [0, 1, 2, 3])
      await honest.request({
        type: 'push',
        step: 0,
        microBatchId: id,
        version: 0,
        generation: 0,
        offset: 0,
        grads: new Float32Array(count).fill(0.01),
        loss: 0.5,
        samples: 2,
      });
    expect((await next).version).toBe(1);
    expect(await closed).toBe(1009);
    expect(await parked).toBe('E_CLOSED');
    await expect.poll(() => applied.map((a) => a.step)).toEqual([0]);
  });
});
