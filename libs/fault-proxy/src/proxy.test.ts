// @types/ws is not installed in the workspace; the protocol lib's typings of ws serve the tests.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../protocol/src/ws-types.d.ts" />
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { mulberry32 } from './prng.js';
import { createFaultProxy, type FaultProxy } from './proxy.js';
import type { FaultRule } from './schedule.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Peer {
  readonly received: string[];
  readonly closes: number[];
}

/** A real ws server recording each message as text, and how each connection ended. */
async function wsServer(): Promise<{ port: number; peers: Peer[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => server.once('listening', r));
  const peers: Peer[] = [];
  server.on('connection', (socket) => {
    const peer: Peer = { received: [], closes: [] };
    peers.push(peer);
    socket.on('message', (data) => peer.received.push(String(data)));
    socket.on('close', (code) => peer.closes.push(code));
    socket.on('error', () => undefined);
  });
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, peers };
}

async function through(schedule: FaultRule[], seed = 1): Promise<{ proxy: FaultProxy; server: Awaited<ReturnType<typeof wsServer>>; client: WebSocket }> {
  const server = await wsServer();
  const proxy = await createFaultProxy({ target: { port: server.port }, schedule, seed });
  closers.push(() => proxy.close());
  const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { perMessageDeflate: false });
  client.on('error', () => undefined);
  closers.push(() => client.terminate());
  await once(client, 'open');
  return { proxy, server, client };
}

/** Sends messages m1..mn, each after the previous reached the socket; n bytes of padding make big ones. */
async function sendAll(client: WebSocket, n: number, big: (i: number) => boolean = () => false): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await new Promise<void>((resolve, reject) => client.send(`m${i}${big(i) ? '.'.repeat(2000) : ''}`, (e) => (e ? reject(e) : resolve())));
  }
}

/** Waits (polling, no fixed sleep) until `done` holds; fails after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
}

const short = (s: string): string => s.replace(/\.+$/, '');

describe('createFaultProxy', () => {
  it('forwards both ways unchanged with an empty schedule, and counts messages and bytes', async () => {
    const { proxy, server, client } = await through([]);
    const echoes: string[] = [];
    client.on('message', (d) => echoes.push(String(d)));
    await sendAll(client, 3);
    await until(() => server.peers[0]?.received.length === 3);
    expect(server.peers[0].received).toEqual(['m1', 'm2', 'm3']);
    expect(proxy.stats.messages['client-to-server']).toBe(3);
    expect(proxy.stats.connections).toBe(1);
    expect(proxy.stats.duplicated + proxy.stats.dropped + proxy.stats.resets + proxy.stats.blackholed).toBe(0);
    expect(echoes).toEqual([]);
  });

  it('duplicates the listed messages once each (the copy right after the original)', async () => {
    const { proxy, server, client } = await through([{ kind: 'duplicate', messages: [2, 4] }]);
    await sendAll(client, 4);
    await until(() => server.peers[0]?.received.length === 6);
    expect(server.peers[0].received).toEqual(['m1', 'm2', 'm2', 'm3', 'm4', 'm4']);
    expect(proxy.stats.duplicated).toBe(2);
    expect(proxy.events.map((e) => [e.kind, e.payloadBytes])).toEqual([
      ['duplicate', 2],
      ['duplicate', 2],
    ]);
  });

  it('counts only messages at least minPayloadBytes long when choosing the nth', async () => {
    // Messages 2, 3 and 5 are big; the rule's 2nd big message is m3.
    const { server, client } = await through([{ kind: 'drop', minPayloadBytes: 1000, messages: [2] }]);
    await sendAll(client, 5, (i) => i === 2 || i === 3 || i === 5);
    await until(() => server.peers[0]?.received.length === 4);
    expect(server.peers[0].received.map(short)).toEqual(['m1', 'm2', 'm4', 'm5']);
  });

  it('drops by seeded probability: the same seed drops the same messages, as its draws say', async () => {
    const seed = 20240611;
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { proxy, server, client } = await through([{ kind: 'drop', probability: 0.3 }], seed);
      await sendAll(client, 40);
      await sendAll(client, 0);
      await until(() => (server.peers[0]?.received.length ?? 0) + proxy.stats.dropped === 40);
      runs.push(server.peers[0].received);
    }
    // One draw per message, in order: message i is dropped when the i-th draw is below 0.3.
    const next = mulberry32(seed);
    const expected = Array.from({ length: 40 }, (_, i) => `m${i + 1}`).filter(() => !(next() < 0.3));
    expect(runs[0]).toEqual(expected);
    expect(runs[1]).toEqual(expected);
    expect(expected.length).toBeLessThan(40);
  });

  it('resets both sockets in the middle of the listed frame: the server sees 1006 and only what came before', async () => {
    const { proxy, server, client } = await through([{ kind: 'reset', messages: [3] }]);
    const closed = once(client, 'close');
    await sendAll(client, 3, () => true);
    const [code] = await closed;
    await until(() => server.peers[0]?.closes.length === 1);
    expect(server.peers[0].received.map(short)).toEqual(['m1', 'm2']);
    expect(server.peers[0].closes).toEqual([1006]);
    expect(code).toBe(1006);
    expect(proxy.stats.resets).toBe(1);
    // m3 with 2000 dots: 2002 payload bytes, 8-byte header (16-bit length + key): 2010; half is 1005.
    expect(proxy.events.map((e) => [e.kind, e.detail])).toEqual([['reset', 'after 1005 of 2010 frame bytes']]);
  });

  it('black-holes whole frames both ways while a hole is open, keeps the connection, and heals', async () => {
    const { proxy, server, client } = await through([]);
    const echoes: string[] = [];
    client.on('message', (d) => echoes.push(String(d)));
    await sendAll(client, 1);
    await until(() => server.peers[0]?.received.length === 1);
    proxy.blackhole(60_000);
    await sendAll(client, 2);
    await until(() => proxy.stats.blackholed === 2);
    proxy.heal();
    await new Promise<void>((r) => client.send('after', () => r()));
    await until(() => server.peers[0].received.length === 2);
    expect(server.peers[0].received).toEqual(['m1', 'after']);
    expect(server.peers[0].closes).toEqual([]);
    expect(proxy.events.map((e) => e.kind)).toEqual(['blackhole-start', 'blackhole-end']);
  });

  it('holds a close seen during a black hole until the hole heals', async () => {
    const { proxy, server, client } = await through([]);
    await until(() => server.peers.length === 1);
    proxy.blackhole(60_000);
    client.terminate();
    await new Promise((r) => setImmediate(r));
    expect(server.peers[0].closes).toEqual([]);
    proxy.heal();
    await until(() => server.peers[0].closes.length === 1);
    expect(server.peers[0].closes).toEqual([1006]);
  });

  it('keeps the order of messages under a jittered delay', async () => {
    const { proxy, server, client } = await through([{ kind: 'delay', ms: 1, jitterMs: 10 }]);
    await sendAll(client, 20);
    await until(() => server.peers[0]?.received.length === 20);
    expect(server.peers[0].received).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    // The 101 response, the upgrade request and the 20 frames: 22 units held back.
    expect(proxy.stats.delayed).toBe(22);
  });

  it('passes a refused upgrade (HTTP 401) through untouched', async () => {
    const http = createHttpServer();
    http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope'));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    closers.push(() => new Promise<void>((r) => http.close(() => r())));
    const proxy = await createFaultProxy({ target: { port: (http.address() as AddressInfo).port }, seed: 1 });
    closers.push(() => proxy.close());
    const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
    client.on('error', () => undefined);
    const [, response] = (await once(client, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
  });

  it('refuses impossible schedules at start-up, naming the rule, field and value', async () => {
    const target = { port: 1 };
    await expect(createFaultProxy({ target, schedule: [{ kind: 'drop', probability: 1.5 }] })).rejects.toThrow(
      /E_SCHEDULE: schedule\[0\] \(drop\)\.probability is 1\.5; give a probability in \[0, 1\]/,
    );
    await expect(
      createFaultProxy({
        target,
        schedule: [
          { kind: 'delay', ms: 1 },
          { kind: 'duplicate', messages: [0] },
        ],
      }),
    ).rejects.toThrow(/schedule\[1\] \(duplicate\)\.messages is \[0\]/);
    await expect(createFaultProxy({ target, schedule: [{ kind: 'reset', fraction: 1 }] })).rejects.toThrow(
      /fraction is 1; give a share strictly between 0 and 1/,
    );
    await expect(createFaultProxy({ target, protocol: 'tcp', schedule: [{ kind: 'drop', messages: [1] }] })).rejects.toThrow(
      /per-message faults need the WebSocket framing/,
    );
    await expect(createFaultProxy({ target: { port: 70_000 } })).rejects.toThrow(/target\.port 70000 is not a port/);
  });
});
