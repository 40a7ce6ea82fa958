import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  connect,
  createServer,
  decodeMessage,
  encodeMessage,
  HEADER_JOB,
  HEADER_MAX_PAYLOAD,
  HEADER_ROLE,
  HEADER_VERSION,
  maxPayloadFor,
  PROTOCOL_VERSION,
  type Message,
  type ProtocolServer,
} from '@dptrain/protocol';
import { silentLogger } from '@dptrain/log';
import { trainReference } from '@dptrain/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DATASET, jobOf, sameBits, startCluster } from '../testing/in-process-cluster.js';
import type { ParameterServer } from './parameter-server.js';

const TOKEN = 'hostile-test-token';
const JOB = 'hostile-job';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const servers: ProtocolServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function headers(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    authorization: `Bearer ${TOKEN}`,
    [HEADER_ROLE]: 'worker',
    [HEADER_VERSION]: String(PROTOCOL_VERSION),
    [HEADER_JOB]: JOB,
    [HEADER_MAX_PAYLOAD]: String(1 << 20),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Opens a raw ws connection and resolves with the HTTP refusal (status and JSON body) the handshake gives. */
function refusedUpgrade(url: string, hdrs: Record<string, string>): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: hdrs });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    (ws as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { code: string }).code }));
    });
  });
}

/** A raw, authenticated ws client: sends bytes as a hostile peer would and collects the decoded replies. */
async function rawPeer(url: string): Promise<{ ws: WebSocket; next: () => Promise<Message>; closed: Promise<number> }> {
  const ws = new WebSocket(url, { headers: headers() });
  // The ws typings this repository carries declare only some events; error and message exist at run time.
  const events = ws as unknown as NodeJS.EventEmitter;
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    events.once('error', reject);
  });
  const inbox: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  events.on('message', (data: Buffer) => {
    const msg = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const waiter = waiters.shift();
    if (waiter) waiter(msg);
    else inbox.push(msg);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, closed, next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => waiters.push(resolve))) };
}

/** msgpack 0xc1 ("never used") as the whole header of an otherwise well-formed frame. */
function malformedFrame(): Uint8Array {
  const frame = new Uint8Array(16);
  frame.set([0x44, 0x50, 1, 0]);
  new DataView(frame.buffer).setUint32(4, 1, true);
  frame[8] = 0xc1;
  return frame;
}

function frameOf(msg: Message): Buffer {
  return Buffer.concat(encodeMessage(msg));
}

describe('hostile input against a live parameter server (real sockets)', () => {
  it('refuses each bad peer or frame with its code while a well-behaved worker trains to the reference bits', async () => {
    const job = jobOf({ steps: 16 });
    const reference = await trainReference(job.config, DATASET);
    reference.model.dispose();
    let url = '';
    let attacks: Promise<Record<string, unknown>> | undefined;
    let shard: ParameterServer | undefined;

    const attack = async (paramCount: number): Promise<Record<string, unknown>> => {
      const seen: Record<string, unknown> = {};
      seen.noToken = await refusedUpgrade(url, headers({ authorization: undefined }));
      seen.wrongToken = await connect(url, { role: 'worker', jobId: JOB, token: 'not-the-token-of-this-job', expectRole: 'ps', log: silentLogger }).then(
        () => 'accepted',
        (e: { code: string }) => e.code,
      );
      seen.wrongVersion = await refusedUpgrade(url, headers({ [HEADER_VERSION]: '99' }));
      const peer = await rawPeer(url);
      const push = { type: 'push', seq: 0, step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, loss: 1, samples: 4 } as const;
      peer.ws.send(malformedFrame());
      seen.malformed = (await peer.next()) as Message;
      peer.ws.send(frameOf({ ...push, seq: 1, grads: new Float32Array(paramCount - 1) }));
      seen.wrongLength = await peer.next();
      const nan = new Float32Array(paramCount);
      nan[7] = Number.NaN;
      peer.ws.send(frameOf({ ...push, seq: 2, grads: nan }));
      seen.nan = await peer.next();
      peer.ws.send(Buffer.alloc(maxPayloadFor(paramCount) + 1));
      seen.oversizedClose = await peer.closed;
      return seen;
    };

    const cluster = startCluster(job, 1, {
      connectShard: async (_k, ps, paramCount) => {
        if (!url) {
          const server = await createServer({
            jobId: JOB,
            role: 'ps',
            token: TOKEN,
            port: 0,
            validateOptions: ps.validateOptions(paramCount),
            onConnection: (c) => ps.attach(c),
            log: silentLogger,
          });
          servers.push(server);
          url = server.url;
          shard = ps;
        }
        return connect(url, {
          role: 'worker',
          jobId: JOB,
          token: TOKEN,
          expectRole: 'ps',
          validateOptions: { paramCount },
          maxPayload: maxPayloadFor(paramCount),
          log: silentLogger,
        });
      },
      // Attack while the worker is between steps 3 and 16.
      onStep: (step) => {
        if (step === 3) attacks = attack(shard!.paramCount);
      },
    });
    const [result, worker] = await cluster.run;
    const seen = await attacks!;

    expect(seen.noToken).toEqual({ status: 401, code: 'E_AUTH' });
    expect(seen.wrongToken).toBe('E_AUTH');
    expect(seen.wrongVersion).toEqual({ status: 400, code: 'E_VERSION' });
    expect(seen.malformed).toMatchObject({ type: 'error', code: 'E_MALFORMED' });
    expect(seen.wrongLength).toMatchObject({ type: 'error', re: 1, code: 'E_BAD_LENGTH' });
    expect(seen.nan).toMatchObject({ type: 'error', re: 2, code: 'E_NON_FINITE' });
    expect((seen.nan as { message: string }).message).toContain('7');
    expect(seen.oversizedClose).toBe(1009);
    // The hostile frames never reached the shard's state: the run ends on the reference trainer's bits,
    // and the shard accepted exactly the worker's 16 steps × M = 4 pushes.
    expect(result.steps).toBe(16);
    expect(sameBits(result.params, reference.params)).toBe(true);
    expect(shard!.counters).toMatchObject({ accepted: 64, rejected: 0, stale: 0 });
    expect(worker).toMatchObject({ microBatches: 64, reconnects: 0, shutdownReason: 'training finished' });
  }, 30_000);
});
