import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from './client.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { MIN_PEER_MAX_PAYLOAD } from './limits.js';
import { concatParts } from './frame.js';
import { allocateTensor } from './headroom.js';
import { PROTOCOL_VERSION, type Message } from './messages.js';
import type { ProtocolServer } from './server.js';
import { closeOpened, connectTo, JOB, opened, P, rawUpgrade, refusalOf, startPs, TOKEN, workerHeaders } from './testing/live-server.js';
import { WebSocket } from './ws.js';

afterEach(closeOpened);

describe('createServer / connect', () => {
  it('connects, exchanges pull/params and push/pushAck, and tells each side who the peer is', async () => {
    const { server, accepted } = await startPs();
    const worker = await connectTo(server, { expectRole: 'ps' });
    const params = await worker.request({ type: 'pull', step: 3 });
    expect([params.step, params.values.length, params.values[7]]).toEqual([3, P, 0.5]);
    const ack = await worker.request({
      type: 'push',
      step: 3,
      microBatchId: 0,
      version: 1,
      generation: 0,
      offset: 0,
      grads: new Float32Array(P),
      loss: 1,
      samples: 2,
    });
    expect(ack.status).toBe('accepted');
    expect(worker.peer).toMatchObject({ role: 'ps', jobId: JOB, name: 'ps-0', version: PROTOCOL_VERSION });
    expect(accepted).toHaveLength(1);
    expect(accepted[0].peer).toMatchObject({ role: 'worker', name: 'worker-1', jobId: JOB });
    expect(server.connections.size).toBe(1);
  });

  it('carries a headroom tensor in place over the socket, values intact, in both directions', async () => {
    const seen: number[][] = [];
    const values = allocateTensor(P);
    values.set(Array.from({ length: P }, (_, i) => i / 4));
    const { server } = await startPs({
      onConnection: (connection) =>
        connection.on('message', (msg) => {
          if (msg.type === 'push') {
            seen.push([...msg.grads]);
            void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
          } else if (msg.type === 'pull') {
            void connection.reply(msg, { type: 'params', version: 1, step: 0, offset: 0, values });
          }
        }),
    });
    const worker = await connectTo(server);
    const grads = allocateTensor(P);
    grads.set(Array.from({ length: P }, (_, i) => -i));
    await worker.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 });
    expect(seen).toEqual([[-0, -1, -2, -3, -4, -5, -6, -7]]);
    const params = await worker.request({ type: 'pull', step: 0 });
    expect([...params.values]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75]);
  });

  it('takes the token from DPTRAIN_TOKEN when none is given', async () => {
    const saved = process.env.DPTRAIN_TOKEN;
    process.env.DPTRAIN_TOKEN = TOKEN;
    try {
      const { server } = await startPs({ token: undefined });
      const worker = await connectTo(server, { token: undefined });
      expect(worker.isOpen).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.DPTRAIN_TOKEN;
      else process.env.DPTRAIN_TOKEN = saved;
    }
  });

  it('answers a request without a token with HTTP 401 before any WebSocket exists', async () => {
    let connections = 0;
    const { server, log } = await startPs({ onConnection: () => connections++ });
    const headers = workerHeaders();
    delete (headers as Record<string, string>).authorization;
    const { status, body } = await rawUpgrade(server, headers);
    expect(status).toBe(401);
    expect(JSON.parse(body)).toMatchObject({ code: 'E_AUTH' });
    expect(JSON.parse(body).message).toContain('no "Authorization: Bearer <token>" header');
    expect(connections).toBe(0);
    expect(log.filter((r) => r.event === 'handshake-refused').map((r) => r.code)).toEqual(['E_AUTH']);
  });

  it('refuses a wrong token with 401 and the client reports E_AUTH', async () => {
    const { server } = await startPs();
    expect((await rawUpgrade(server, workerHeaders({ authorization: 'Bearer nope' }))).status).toBe(401);
    const error = await refusalOf(connectTo(server, { token: 'wrong-token-of-the-right-length' }));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('(HTTP 401)');
    expect(error.retryable).toBe(false);
  });

  it('refuses another protocol version with 400 naming expected and got', async () => {
    const { server } = await startPs();
    const { status, body } = await rawUpgrade(server, workerHeaders({ 'x-dptrain-version': String(PROTOCOL_VERSION + 1) }));
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ code: 'E_VERSION' });
    expect(JSON.parse(body).message).toContain(`protocol version mismatch: expected ${PROTOCOL_VERSION}, got "${PROTOCOL_VERSION + 1}"`);
  });

  it('refuses another job id with 409 and the client reports E_JOB', async () => {
    const { server } = await startPs();
    const error = await refusalOf(connectTo(server, { jobId: 'job-7' }));
    expect(error.code).toBe('E_JOB');
    expect(error.message).toContain('job id mismatch: expected "job-42", got "job-7"');
  });

  it('refuses roles it does not accept (403 E_ROLE) and missing headers (400 E_HANDSHAKE)', async () => {
    const { server } = await startPs({ acceptRoles: ['worker', 'coordinator'] });
    const error = await refusalOf(connectTo(server, { role: 'client' }));
    expect(error.code).toBe('E_ROLE');
    expect(error.message).toContain('this server accepts worker, coordinator, not a client');
    const headers = workerHeaders();
    delete (headers as Record<string, string>)['x-dptrain-role'];
    const missing = await rawUpgrade(server, headers);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).code).toBe('E_HANDSHAKE');
  });

  it('lets the client refuse a server of the wrong role (E_ROLE)', async () => {
    const { server } = await startPs();
    const error = await refusalOf(connectTo(server, { expectRole: 'coordinator' }));
    expect(error.code).toBe('E_ROLE');
    expect(error.message).toContain('expected to reach a coordinator, the server is a ps');
  });

  it('reports an unreachable server as E_CONNECT, which is retryable', async () => {
    const { server } = await startPs();
    const url = server.url;
    await server.close();
    const error = await refusalOf(connect(url, { token: TOKEN, jobId: JOB, role: 'worker', log: () => undefined }));
    expect(error.code).toBe('E_CONNECT');
    expect(error.retryable).toBe(true);
  });

  it('answers plain HTTP with 426 unless given a request handler', async () => {
    const { server } = await startPs();
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: server.host, port: server.port, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(426);
  });

  it('closes its connections with 1001 when it closes', async () => {
    const { server } = await startPs();
    const worker = await connectTo(server);
    const closed = new Promise<number>((resolve) => worker.once('close', (code) => resolve(code)));
    await server.close();
    expect(await closed).toBe(1001);
    expect(server.connections.size).toBe(0);
  });
});

describe('hostile peers', () => {
  /** A raw ws client that passed the handshake, free to send anything. */
  async function rawClient(server: ProtocolServer, maxPayload = 1 << 20) {
    const ws = new WebSocket(server.url, { headers: workerHeaders({ 'x-dptrain-max-payload': String(maxPayload) }), maxPayload: 64 << 20 });
    opened.push({ close: () => ws.terminate() });
    const received: Message[] = [];
    ws.on('message', (data) => received.push(decodeMessage(data as Buffer)));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.on('error', reject);
    });
    return { ws, received, closed };
  }

  it('closes a connection that sends a frame over maxPayload with 1009', async () => {
    const { server, log } = await startPs({ maxPayload: MIN_PEER_MAX_PAYLOAD });
    const { ws, closed } = await rawClient(server);
    ws.send(new Uint8Array(MIN_PEER_MAX_PAYLOAD + 8), { binary: true });
    expect(await closed).toBe(1009);
    await expect.poll(() => log.some((r) => r.event === 'frame-too-large' && r.code === 'E_TOO_LARGE')).toBe(true);
  });

  it('answers each bad frame with an error of the exact code while a good worker keeps working', async () => {
    const { server, log } = await startPs({ maxProtocolErrors: 6 });
    const worker = await connectTo(server);
    const hostile = await rawClient(server);

    const nan = new Float32Array(P);
    nan[2] = NaN;
    const pushBytes = (grads: Float32Array, seq: number) =>
      concatParts(encodeMessage({ type: 'push', seq, step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 0, samples: 1 }));
    const hostileFrames: [string | Uint8Array, string][] = [
      [new Uint8Array([0x92, 0x01]), 'E_MALFORMED'], // not a frame
      ['{"type":"push"}', 'E_MALFORMED'], // text frame
      [pushBytes(new Float32Array(P - 2), 11), 'E_BAD_LENGTH'],
      [pushBytes(nan, 12), 'E_NON_FINITE'],
      [concatParts(encodeMessage({ type: 'leaseRevoked', seq: 13, leaseId: 0, reason: 'forged' })), 'E_ROLE'],
    ];
    for (const [frame] of hostileFrames) {
      hostile.ws.send(frame, { binary: typeof frame !== 'string' });
      // The good worker is served between hostile frames.
      const params = await worker.request({ type: 'pull', step: 1 });
      expect(params.values.length).toBe(P);
    }
    await expect.poll(() => hostile.received.length).toBe(hostileFrames.length);
    expect(hostile.received.map((m) => (m.type === 'error' ? m.code : m.type))).toEqual(hostileFrames.map(([, code]) => code));
    expect(hostile.received.map((m) => (m.type === 'error' ? m.re : -1))).toEqual([undefined, undefined, 11, 12, 13]);
    expect(log.filter((r) => r.event === 'message-refused')).toHaveLength(hostileFrames.length);

    // One more invalid frame reaches maxProtocolErrors (6): the hostile connection is closed with
    // the code of E_MALFORMED; the worker's connection stays open.
    hostile.ws.send(new Uint8Array([0]), { binary: true });
    expect(await hostile.closed).toBe(4006);
    expect(worker.isOpen).toBe(true);
    expect((await worker.request({ type: 'pull', step: 2 })).step).toBe(2);
  });
});
