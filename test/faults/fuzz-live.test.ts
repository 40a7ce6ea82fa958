import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { connect, isProtocolError, maxPayloadFor, type Connection, type Message, type Role } from '@dptrain/protocol';
import { anyMessage } from '@dptrain/protocol/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, LiveRoles, ready, shardParams } from '../cli/live-roles.js';
import { runCli } from '../cli/run-cli.js';
import { smallJob } from '../small-job.js';

// 11,000 generated messages at a live coordinator and shard from peers that hold the job's token:
// every message type with arbitrary (schema-valid) values, and plausible ones aimed at the job's
// real steps, micro-batches and tensor sizes with extreme finite values. Afterwards both processes
// are alive, the shard's parameters have not moved, and two honest workers finish the job with the
// bits of dptrain train.

const JOB = smallJob(['--steps', '40', '--optimizer', 'adam'], 16);
const ENV = { ...process.env, DPTRAIN_TOKEN: 'fuzz-live-test-token-0001', DPTRAIN_JOB: 'fuzz-live', DPTRAIN_LOG_LEVEL: 'error' };
const FRAMES = 11_000;
const out = mkdtempSync(join(tmpdir(), 'fuzz-live-'));
const roles = new LiveRoles(ENV);
afterAll(() => roles.killAll());

/** Messages aimed at this job: its steps and micro-batches, tensors of the right length, extreme finite values. */
function plausible(paramCount: number): fc.Arbitrary<Message> {
  const value = fc.constantFrom(3.4e38, -3.4e38, 1e-45, -0, 0, 1e30, 0.5);
  const grads = value.map((v) => new Float32Array(paramCount).fill(v));
  const step = fc.integer({ min: 0, max: 3 });
  const id = fc.integer({ min: 0, max: 5 });
  const seq = fc.nat();
  return fc.oneof(
    fc.record({
      type: fc.constant('push' as const),
      seq,
      step,
      microBatchId: id,
      version: step,
      generation: fc.nat({ max: 2 }),
      offset: fc.constant(0),
      grads,
      loss: fc.double({ noNaN: true, noDefaultInfinity: true }),
      samples: fc.integer({ min: 1, max: 8 }),
    }),
    fc.record({
      type: fc.constant('pushRun' as const),
      seq,
      step,
      microBatchId: fc.constant(0),
      count: fc.constant(2),
      version: step,
      generation: fc.constant(0),
      offset: fc.constant(0),
      grads,
      losses: fc.constant([1, 1]),
    }),
    fc.record({ type: fc.constant('pull' as const), seq, step: fc.integer({ min: 0, max: 4 }) }),
    fc.record({
      type: fc.constant('leaseDone' as const),
      seq,
      leaseId: fc.nat({ max: 20 }),
      step,
      microBatchIds: fc.constant([0, 1]),
      losses: fc.constant([0.5, 0.5]),
      computeMs: fc.constant(1),
    }),
    fc.record({
      type: fc.constant('register' as const),
      seq,
      name: fc.constantFrom('worker-0', 'worker-1', 'ps-0'),
      pid: fc.nat(),
      backend: fc.constant('cpu'),
      workerId: fc.nat({ max: 3 }),
      shard: fc.nat({ max: 1 }),
    }),
    fc.record({ type: fc.constant('heartbeat' as const), seq, workerId: fc.nat({ max: 3 }), generation: fc.nat({ max: 2 }), sentAtMs: fc.nat() }),
  ) as fc.Arbitrary<Message>;
}

/**
 * Sends each message from a peer of `role`, then a status request whose answer proves the server
 * took it (a connection delivers in order); reconnects whenever the server closed on it. Counts
 * the messages the server took and the error replies.
 */
async function barrage(
  url: string,
  role: Role,
  messages: readonly Message[],
  paramCount: number,
): Promise<{ taken: number; refused: number; reconnects: number }> {
  let connection: Connection | undefined;
  let refused = 0;
  let reconnects = 0;
  let taken = 0;
  for (const message of messages) {
    if (!connection?.isOpen) {
      connection = await connect(url, {
        role,
        jobId: ENV.DPTRAIN_JOB,
        token: ENV.DPTRAIN_TOKEN,
        validateOptions: { paramCount },
        maxPayload: maxPayloadFor(paramCount),
        log: () => undefined,
      });
      connection.on('message', (msg) => msg.type === 'error' && refused++);
      reconnects++;
    }
    const { seq: _seq, ...outgoing } = message;
    try {
      void connection.send(outgoing as Parameters<Connection['send']>[0]);
    } catch (error) {
      // Refused on our side: a frame over the server's declared bound.
      if (!isProtocolError(error)) throw error;
      continue;
    }
    if (
      await connection.request({ type: 'status' }).then(
        () => true,
        () => false,
      )
    )
      taken++;
  }
  connection?.close(1000, 'fuzz done');
  return { taken, refused, reconnects };
}

describe('a live coordinator and shard under 10,000+ generated frames from token holders', () => {
  it('stay alive, keep their state, and the job then ends with the reference bits', async () => {
    const reference = runCli(['train', ...JOB, '--out', join(out, 'reference')], ENV);
    const [port, psPort] = [await freePort(), await freePort()];
    const url = `ws://127.0.0.1:${port}/`;
    const psUrl = `ws://127.0.0.1:${psPort}/`;
    const coordinator = roles.start(['coordinator', ...JOB, '--workers', '2', '--out', join(out, 'cluster'), '--host', '127.0.0.1', '--port', String(port)]);
    await ready(url, ENV);
    const ps = roles.start(['ps', '--coordinator', url, '--host', '127.0.0.1', '--port', String(psPort), '--checkpoint-dir', join(out, 'checkpoints')]);
    await ready(psUrl, ENV);
    const before = await shardParams(psUrl, ENV);
    const paramCount = before.length / 4;

    const random = fc.sample(anyMessage, { numRuns: FRAMES / 2, seed: 20261206 });
    const aimed = fc.sample(plausible(paramCount), { numRuns: FRAMES / 2, seed: 20261207 });
    const results = [
      await barrage(psUrl, 'worker', [...random.slice(0, 2_000), ...aimed.slice(0, 3_500)], paramCount),
      await barrage(psUrl, 'client', random.slice(2_000, 3_000), paramCount),
      await barrage(url, 'worker', [...random.slice(3_000, 4_500), ...aimed.slice(3_500)], paramCount),
      await barrage(url, 'ps', random.slice(4_500), paramCount),
    ];
    // Each message the servers took and refused got an error reply, and they closed peers that sent
    // 32 invalid ones (hence the reconnects); none of it ended a process.
    const taken = results.reduce((n, r) => n + r.taken, 0);
    expect(taken).toBeGreaterThanOrEqual(10_000);
    expect(results.every((r) => r.refused > 0 && r.reconnects > 1)).toBe(true);
    expect([coordinator.exitCode, ps.exitCode]).toEqual([null, null]);
    expect((await shardParams(psUrl, ENV)).equals(before)).toBe(true);

    const workers = ['worker-0', 'worker-1'].map((name) => roles.start(['worker', '--coordinator', url, '--backend', 'cpu', '--name', name]));
    const code = await new Promise<number | null>((resolve) => coordinator.once('exit', resolve));
    expect(code).toBe(0);
    expect((await reference).code).toBe(0);
    expect(readFileSync(join(out, 'cluster', 'params.safetensors')).equals(readFileSync(join(out, 'reference', 'params.safetensors')))).toBe(true);
    await Promise.all(workers.map((w) => (w.exitCode === null ? new Promise((resolve) => w.once('exit', resolve)) : undefined)));
  });
});
