import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { FrameSplitter, preambleLength } from '@dptrain/fault-proxy';
import { connect, decodeMessage, isProtocolError } from '@dptrain/protocol';

// Peers for the chaos scenarios that hold the job's token and misbehave on purpose.

/** A raw WebSocket client: our own upgrade and masked frames, so nothing checks what we send. */
export interface RawClient {
  readonly status: number;
  readonly body: string;
  /** Sends one binary frame with `payload` (masked), or just a header declaring `declared` bytes. */
  send(payload: Uint8Array, declared?: number): void;
  /** Server frames so far, as [opcode, payload]. */
  readonly frames: [number, Buffer][];
  close(): void;
  /** Stops reading what the server sends (the socket's buffers fill up). */
  pause(): void;
}

export async function rawClient(url: string, headers: Record<string, string>): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket: Socket = tcpConnect(Number(port), hostname);
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET / HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const frames: [number, Buffer][] = [];
  const splitter = new FrameSplitter();
  let head: Buffer | undefined = Buffer.alloc(0);
  const answered = new Promise<{ status: number; body: string }>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = preambleLength(head);
        if (end < 0) return;
        const text = head.toString('latin1');
        const status = Number(text.slice(9, 12));
        if (status !== 101) return void socket.once('end', () => resolve({ status, body: head!.toString('utf8', end) }));
        chunk = head.subarray(end);
        head = undefined;
        resolve({ status, body: '' });
      }
      for (const f of splitter.push(chunk)) frames.push([f.opcode, Buffer.from(f.bytes.subarray(f.headerLength))]);
    });
    socket.on('close', () => resolve({ status: 0, body: '' }));
  });
  const { status, body } = await answered;
  return {
    status,
    body: body || '',
    frames,
    send(payload, declared) {
      const length = declared ?? payload.length;
      const header = length < 126 ? Buffer.from([0x82, 0x80 | length]) : Buffer.alloc(10);
      if (length >= 126) {
        header[0] = 0x82;
        header[1] = 0x80 | 127;
        header.writeUInt32BE(Math.floor(length / 4_294_967_296), 2);
        header.writeUInt32BE(length >>> 0, 6);
      }
      // A zero masking key leaves the payload as it is.
      socket.write(Buffer.concat([header, Buffer.alloc(4), Buffer.from(payload)]));
    },
    close: () => socket.destroy(),
    pause: () => socket.pause(),
  };
}

/** A DP frame (README frame layout) around raw msgpack header bytes, no tensors: zero-padded to 8. */
export function dpFrame(header: number[]): Uint8Array {
  const frame = Buffer.alloc(Math.ceil((8 + header.length) / 8) * 8);
  frame.write('DP', 0, 'latin1');
  frame[2] = 1;
  frame.writeUInt32LE(header.length, 4);
  Buffer.from(header).copy(frame, 8);
  return frame;
}

/** A msgpack fixstr. */
export const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s, 'latin1')];

/** The codes of the error frames the server sent (or the types of other messages). */
export function errorCodes(client: RawClient): string[] {
  return client.frames
    .filter(([op]) => op === 2)
    .map(([, payload]) => {
      try {
        const msg = decodeMessage(new Uint8Array(payload));
        return msg.type === 'error' ? msg.code : msg.type;
      } catch (error) {
        return isProtocolError(error) ? `undecodable ${error.code}` : 'undecodable';
      }
    });
}

export function rssKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((text) => Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? Number.NaN));
}

/** A copy of the shard's raw parameters (its current version) as bytes. */
export async function pullRaw(url: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const client = await connect(url, { role: 'client', jobId: env.DPTRAIN_JOB!, token: env.DPTRAIN_TOKEN!, maxPayload: 64 * 1024 * 1024 });
  try {
    const { values } = await client.request({ type: 'pull', step: 0, raw: true }, { timeoutMs: 60_000 });
    return Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  } finally {
    client.close(1000, 'chaos done');
  }
}
