// @types/ws is not installed in the workspace; the protocol lib's typings of ws serve the tests.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../protocol/src/ws-types.d.ts" />
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mulberry32 } from './prng.js';
import { FrameSplitter, preambleLength, type WsFrame } from './ws-frames.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Payload bytes of a frame, unmasked with its key (RFC 6455 §5.3: byte i ^= key[i % 4]). */
function payloadOf(frame: WsFrame): Buffer {
  const payload = Buffer.from(frame.bytes.subarray(frame.headerLength));
  if (frame.masked) {
    const key = frame.bytes.subarray(frame.headerLength - 4, frame.headerLength);
    for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4];
  }
  return payload;
}

/**
 * Accepts one WebSocket upgrade by hand (the 101 with Sec-WebSocket-Accept), then records every
 * byte the real `ws` client sends, so the splitter sees exactly what a proxy would.
 */
async function rawServer(): Promise<{ port: number; bytes: () => Buffer; socket: Promise<Socket> }> {
  const chunks: Buffer[] = [];
  let resolveSocket!: (s: Socket) => void;
  const socket = new Promise<Socket>((r) => (resolveSocket = r));
  const server = createServer((s) => {
    let head: Buffer | undefined = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = preambleLength(head);
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))![1];
        const accept = createHash('sha1')
          .update(key + GUID)
          .digest('base64');
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        chunks.push(head.subarray(end));
        head = undefined;
        resolveSocket(s);
        return;
      }
      chunks.push(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, bytes: () => Buffer.concat(chunks), socket };
}

/** Feeds `bytes` to a fresh splitter in chunks of seeded random sizes 1..maxChunk. */
function split(bytes: Buffer, seed: number, maxChunk: number): WsFrame[] {
  const splitter = new FrameSplitter();
  const next = mulberry32(seed);
  const frames: WsFrame[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * maxChunk);
    frames.push(...splitter.push(bytes.subarray(at, at + size)));
    at += size;
  }
  expect(splitter.buffered).toBe(0);
  return frames;
}

describe('FrameSplitter on frames produced by ws', () => {
  it('splits masked client frames of 7-, 16- and 64-bit lengths at any chunk boundary', async () => {
    const server = await rawServer();
    const client = new WebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: false });
    closers.push(() => client.terminate());
    await once(client, 'open');
    // 0, 1 and 125 fit the 7-bit length; 126 and 65,535 take the 16-bit form; 65,536 and
    // 200,003 the 64-bit form.
    const sizes = [0, 1, 125, 126, 65_535, 65_536, 200_003];
    const sent = sizes.map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff)));
    for (const payload of sent) client.send(payload, { binary: true });
    client.send('héllo', { binary: false });
    // ws's ping is not in the workspace's ws typings.
    (client as unknown as { ping(data: Buffer): void }).ping(Buffer.from('p'));
    const total = sizes.reduce((s, n) => s + n + (n < 126 ? 6 : n < 65_536 ? 8 : 14), 0) + (2 + 4 + 6) + (2 + 4 + 1);
    while (server.bytes().length < total) await new Promise((r) => setTimeout(r, 5));
    const bytes = server.bytes();
    expect(bytes.length).toBe(total);

    for (const [seed, maxChunk] of [
      [1, 1],
      [2, 7],
      [3, 1000],
      [4, 70_000],
    ]) {
      const frames = split(bytes, seed, maxChunk);
      expect(frames.map((f) => f.opcode)).toEqual([2, 2, 2, 2, 2, 2, 2, 1, 9]);
      expect(frames.every((f) => f.masked && f.fin)).toBe(true);
      expect(frames.map((f) => f.headerLength)).toEqual([6, 6, 6, 8, 8, 14, 14, 6, 6]);
      expect(frames.map((f) => f.payloadLength)).toEqual([...sizes, 6, 1]);
      frames.slice(0, sizes.length).forEach((f, i) => expect(payloadOf(f).equals(sent[i])).toBe(true));
      expect(payloadOf(frames[7]).toString('utf8')).toBe('héllo');
    }
  });

  it('splits a fragmented message into its frames (fin only on the last)', async () => {
    const server = await rawServer();
    const client = new WebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: false });
    closers.push(() => client.terminate());
    await once(client, 'open');
    client.send(Buffer.from('ab'), { binary: true, fin: false });
    client.send(Buffer.from('cd'), { binary: true, fin: true });
    while (server.bytes().length < 16) await new Promise((r) => setTimeout(r, 5));
    const frames = split(server.bytes(), 5, 3);
    expect(frames.map((f) => [f.opcode, f.fin])).toEqual([
      [2, false],
      [0, true],
    ]);
    expect(Buffer.concat(frames.map(payloadOf)).toString()).toBe('abcd');
  });

  it('reads a hand-built 16-bit header: 0x82 0xFE 0x01 0x00 + key + 256 bytes', () => {
    // 0x82: FIN + binary; 0xFE: mask bit + 126 (a 16-bit length follows); 0x0100 = 256;
    // header = 2 + 2 + 4 (key) = 8 bytes, frame = 264.
    const frame = Buffer.concat([Buffer.from([0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4]), Buffer.alloc(256), Buffer.from([0x89, 0x00])]);
    const frames = new FrameSplitter().push(frame);
    expect(frames.map((f) => [f.headerLength, f.payloadLength, f.bytes.length, f.opcode, f.masked])).toEqual([
      [8, 256, 264, 2, true],
      [2, 0, 2, 9, false],
    ]);
  });

  it('refuses a 64-bit length with the top bit set and frames over the limit, naming the value', () => {
    const bad = Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    expect(() => new FrameSplitter().push(bad)).toThrow(/E_WS_FRAME: a 64-bit payload length with its most significant bit set \(0x8000000000000001\)/);
    // 0x7e + 0xFFFF: a 65,535-byte payload, 65,539 bytes with the header, over a 1,000-byte limit.
    expect(() => new FrameSplitter(1000).push(Buffer.from([0x82, 0x7e, 0xff, 0xff]))).toThrow(
      /E_WS_TOO_LARGE: a frame of 65539 bytes exceeds maxFrameBytes 1000/,
    );
  });

  it('finds the end of the HTTP preamble, or -1 while it is incomplete', () => {
    expect(preambleLength(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'))).toBe(-1);
    // 'GET / HTTP/1.1\r\n' is 16 bytes, 'Host: x\r\n' 9, the blank line 2: 27.
    expect(preambleLength(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x82\x00'))).toBe(27);
    expect(() => preambleLength(Buffer.alloc(70_000, 0x41))).toThrow(/E_WS_TOO_LARGE: no end of HTTP headers within 65536 bytes/);
  });
});
