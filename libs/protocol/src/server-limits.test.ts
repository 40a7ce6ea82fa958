import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from './client.js';
import { encodeMessage } from './codec.js';
import { concatParts } from './frame.js';
import { closeOpened, connectTo, JOB, opened, P, refusalOf, startPs, TOKEN, workerHeaders } from './testing/live-server.js';
import { WebSocket } from './ws.js';

// The limits a server keeps against peers that hold the token but misbehave: one that stops
// reading, too many connections of a role, sockets that never finish their request; and TLS.

afterEach(closeOpened);

/** Resolves once every socket has closed. */
const allClosed = (sockets: Socket[]): Promise<unknown> =>
  Promise.all(sockets.map((s) => (s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once('close', resolve)))));

describe('server limits', () => {
  it('closes a connection whose peer stops reading once its replies pass maxBufferedBytes, and serves the others', async () => {
    // Replies of 4 MB: a few fill the socket's buffers, then ws queues them.
    const { server, log } = await startPs({ maxBufferedBytes: 16 << 20 }, 1 << 20);
    const ws = new WebSocket(server.url, { headers: workerHeaders({ 'x-dptrain-max-payload': String(64 << 20) }), maxPayload: 64 << 20 });
    opened.push({ close: () => ws.terminate() });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.on('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    // It reads nothing more and asks for parameters again and again.
    (ws as unknown as { _socket: Socket })._socket.pause();
    const pull = concatParts(encodeMessage({ type: 'pull', seq: 0, step: 0 }));
    for (let i = 0; i < 1_000 && !log.some((r) => r.event === 'peer-not-reading'); i++) {
      ws.send(pull, { binary: true });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => log.find((r) => r.event === 'peer-not-reading')).toMatchObject({ code: 'E_LIMIT' });
    // The server dropped the socket; the client sees it once it reads again.
    (ws as unknown as { _socket: Socket })._socket.resume();
    await closed;
    const good = await connectTo(server, { validateOptions: { paramCount: 1 << 20 } });
    expect((await good.request({ type: 'pull', step: 0 })).values).toHaveLength(1 << 20);
  });

  it("cuts a slow reader once all connections' queued replies pass the server's bufferBudget", async () => {
    const { server, log } = await startPs({ maxBufferedBytes: 256 << 20, bufferBudget: 24 << 20 }, 1 << 20);
    const readers = await Promise.all(
      [0, 1].map(async () => {
        const ws = new WebSocket(server.url, { headers: workerHeaders({ 'x-dptrain-max-payload': String(64 << 20) }), maxPayload: 64 << 20 });
        opened.push({ close: () => ws.terminate() });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.on('error', reject);
        });
        (ws as unknown as { _socket: Socket })._socket.pause();
        return ws;
      }),
    );
    const pull = concatParts(encodeMessage({ type: 'pull', seq: 0, step: 0 }));
    for (let i = 0; i < 1_000 && !log.some((r) => r.event === 'peer-not-reading'); i++) {
      for (const ws of readers) ws.send(pull, { binary: true });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => log.find((r) => r.event === 'peer-not-reading')?.message).toMatch(/the server's budget of 25165824 bytes for all connections/);
  });

  it('refuses a connection past maxConnections of its role with E_LIMIT (429), others still accepted', async () => {
    const { server } = await startPs({ maxConnections: { worker: 2 } });
    await connectTo(server);
    await connectTo(server);
    const refused = await refusalOf(connectTo(server));
    expect(refused.code).toBe('E_LIMIT');
    expect(refused.message).toMatch(/2 worker connections are open, the most this ps accepts \(maxConnections\.worker 2\)/);
    await connectTo(server, { role: 'client' });
  });

  it('drops sockets past maxPendingSockets and those that do not finish their request within headersTimeoutMs', async () => {
    const { server, log } = await startPs({ maxPendingSockets: 4, headersTimeoutMs: 300 });
    const sockets = Array.from({ length: 10 }, () => {
      const socket = tcpConnect(server.port, server.host);
      socket.on('error', () => undefined);
      // Half an upgrade request, never finished.
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
      return socket;
    });
    opened.push(...sockets.map((s) => ({ close: () => s.destroy() })));
    await allClosed(sockets);
    expect(log.filter((r) => r.event === 'socket-dropped').length).toBeGreaterThanOrEqual(6);
    const good = await connectTo(server);
    expect((await good.request({ type: 'pull', step: 0 })).values).toHaveLength(P);
  });
});

describe('TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const tls = { cert: readFileSync(cert), key: readFileSync(key) };

  it('serves wss:// with a certificate; a client trusting it connects, one that does not is refused', async () => {
    const { server } = await startPs({ tls });
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/);
    const trusted = await connectTo(server, { ca: tls.cert });
    expect((await trusted.request({ type: 'pull', step: 0 })).values).toHaveLength(P);
    const untrusted = await refusalOf(connect(server.url, { token: TOKEN, jobId: JOB, role: 'worker', log: () => undefined }));
    expect(untrusted.code).toBe('E_CONNECT');
    expect(untrusted.message).toMatch(/self[- ]signed certificate/);
  });
});
