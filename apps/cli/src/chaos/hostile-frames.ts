import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { FrameSplitter, preambleLength } from '@dptrain/fault-proxy';
import { connect, decodeMessage, isProtocolError, PROTOCOL_VERSION, type Connection } from '@dptrain/protocol';
import { bitIdentical, startProc, waitFor } from './processes.js';
import { fetchStatus } from '../cluster/status-http.js';
import type { Context, Outcome } from './types.js';

/** A raw WebSocket client: our own upgrade and masked frames, so nothing checks what we send. */
interface RawClient {
  readonly status: number;
  readonly body: string;
  /** Sends one binary frame with `payload` (masked), or just a header declaring `declared` bytes. */
  send(payload: Uint8Array, declared?: number): void;
  /** Server frames so far, as [opcode, payload]. */
  readonly frames: [number, Buffer][];
  close(): void;
}

async function rawClient(url: string, headers: Record<string, string>): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket: Socket = tcpConnect(Number(port), hostname);
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  const lines = [`GET / HTTP/1.1`, `Host: ${hostname}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
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
  };
}

/** A DP frame (README frame layout) around raw msgpack header bytes, no tensors: zero-padded to 8. */
function dpFrame(header: number[]): Uint8Array {
  const frame = Buffer.alloc(Math.ceil((8 + header.length) / 8) * 8);
  frame.write('DP', 0, 'latin1');
  frame[2] = 1;
  frame.writeUInt32LE(header.length, 4);
  Buffer.from(header).copy(frame, 8);
  return frame;
}

const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s, 'latin1')];

/** Hostile msgpack headers: [body, table] arrays the decoder must refuse, with the code expected. */
const HOSTILE_HEADERS: readonly { name: string; header: number[]; code: string }[] = [
  { name: 'malformed msgpack (0xc1, never used)', header: [0x92, 0xc1, 0x90], code: 'E_MALFORMED' },
  { name: 'nesting 200 deep', header: [0x92, ...new Array<number>(200).fill(0x91), 0xc0, 0x90], code: 'E_MALFORMED' },
  { name: 'array declaring 2^32-1 items', header: [0x92, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x90], code: 'E_MALFORMED' },
  { name: '__proto__ key', header: [0x92, 0x83, ...str('type'), ...str('status'), ...str('seq'), 0x01, ...str('__proto__'), 0x80, 0x90], code: 'E_MALFORMED' },
  { name: 'unknown extension type 0x42', header: [0x92, 0xd4, 0x42, 0x00, 0x90], code: 'E_MALFORMED' },
  { name: 'unknown message type', header: [0x92, 0x82, ...str('type'), ...str('rm-rf'), ...str('seq'), 0x01, 0x90], code: 'E_UNKNOWN_TYPE' },
];

function errorCodes(client: RawClient): string[] {
  return client.frames.filter(([op]) => op === 2).map(([, payload]) => {
    try {
      const msg = decodeMessage(new Uint8Array(payload));
      return msg.type === 'error' ? msg.code : msg.type;
    } catch (error) {
      return isProtocolError(error) ? `undecodable ${error.code}` : 'undecodable';
    }
  });
}

function rssKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((text) => Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? Number.NaN));
}

/** Refused upgrades and refused frames against one server; returns one line per check that failed. */
async function attack(url: string, env: NodeJS.ProcessEnv, role: string, paramCount: number): Promise<{ failures: string[]; checks: number }> {
  const token = env.DPTRAIN_TOKEN!;
  const job = env.DPTRAIN_JOB!;
  const good = { Authorization: `Bearer ${token}`, 'x-dptrain-role': 'client', 'x-dptrain-version': String(PROTOCOL_VERSION), 'x-dptrain-job': job, 'x-dptrain-max-payload': '1048576' };
  const failures: string[] = [];
  let checks = 0;
  const expectRefusal = async (name: string, headers: Record<string, string>, status: number, code: string): Promise<void> => {
    checks++;
    const c = await rawClient(url, headers);
    c.close();
    if (c.status !== status || !c.body.includes(code)) failures.push(`${role} ${name}: expected ${status} ${code}, got ${c.status} ${c.body.slice(0, 80)}`);
  };
  const { Authorization: _auth, ...noToken } = good;
  await expectRefusal('no token', noToken, 401, 'E_AUTH');
  await expectRefusal('bad token', { ...good, Authorization: 'Bearer not-the-token' }, 401, 'E_AUTH');
  await expectRefusal('bad version', { ...good, 'x-dptrain-version': '99' }, 400, 'E_VERSION');

  const client = await rawClient(url, good);
  for (const h of HOSTILE_HEADERS) client.send(dpFrame(h.header));
  await waitFor(`${role} to answer ${HOSTILE_HEADERS.length} hostile frames`, () => errorCodes(client).length >= HOSTILE_HEADERS.length, 10_000).catch(() => undefined);
  const codes = errorCodes(client);
  HOSTILE_HEADERS.forEach((h, i) => {
    checks++;
    if (codes[i] !== h.code) failures.push(`${role} ${h.name}: expected ${h.code}, got ${codes[i] ?? 'no reply'}`);
  });
  client.close();

  // Declares a 64 MiB frame, far past maxPayload: ws closes with 1009 on the header alone.
  checks++;
  const big = await rawClient(url, good);
  big.send(new Uint8Array(16), 64 * 1024 * 1024);
  await waitFor(`${role} to close an oversized frame`, () => big.frames.some(([op]) => op === 8), 10_000).catch(() => undefined);
  const close = big.frames.find(([op]) => op === 8);
  if (close?.[1].readUInt16BE(0) !== 1009) failures.push(`${role} oversized frame: expected close 1009, got ${close ? close[1].readUInt16BE(0) : 'no close'}`);
  big.close();

  // Tensors through the real client: a wrong length, then NaN at index 3, to a shard only.
  if (role === 'ps') {
    const worker: Connection = await connect(url, { role: 'worker', jobId: job, token, name: 'chaos-hostile' });
    const push = (grads: Float32Array) => worker.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 8 }, { timeoutMs: 10_000 });
    const wrong = new Float32Array(paramCount + 1);
    const nan = new Float32Array(paramCount);
    nan[3] = Number.NaN;
    for (const [name, grads, code] of [['wrong-length tensor', wrong, 'E_BAD_LENGTH'], ['NaN tensor', nan, 'E_NON_FINITE']] as const) {
      checks++;
      const got = await push(grads).then(
        (ack) => `accepted (${ack.status})`,
        (error: unknown) => (isProtocolError(error) ? error.code : String(error)),
      );
      if (got !== code) failures.push(`ps ${name}: expected ${code}, got ${got}`);
    }
    worker.close(1000, 'chaos done');
  }
  return { failures, checks };
}

/** A copy of the shard's raw parameters (its current version) as bytes. */
async function pullRaw(url: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const client = await connect(url, { role: 'client', jobId: env.DPTRAIN_JOB!, token: env.DPTRAIN_TOKEN!, maxPayload: 64 * 1024 * 1024 });
  try {
    const { values } = await client.request({ type: 'pull', step: 0, raw: true }, { timeoutMs: 10_000 });
    return Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  } finally {
    client.close(1000, 'chaos done');
  }
}

/** RSS may grow by this much while refusing the frames (buffers for one 1 MiB frame, GC slack). */
const RSS_BOUND_KIB = 64 * 1024;

export async function hostileFrames(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const coordinator = startProc(['coordinator', ...ctx.job, '--workers', '2', '--out', dir, '--host', '127.0.0.1', '--port', '0'], ctx.env);
  const procs = [coordinator];
  try {
    const url = `ws://127.0.0.1:${await coordinator.listening}/`;
    const ps = startProc(['ps', '--coordinator', url, '--shard', '0', '--host', '127.0.0.1', '--port', '0', '--name', 'ps-0'], ctx.env);
    procs.push(ps);
    const psUrl = `ws://127.0.0.1:${await ps.listening}/`;
    // No worker has joined: the job waits at step 0, so the parameters must not move.
    const before = await pullRaw(psUrl, ctx.env);
    const paramCount = before.length / 4;
    const rss = { ps: await rssKiB(ps.child.pid!), coordinator: await rssKiB(coordinator.child.pid!) };
    const results = [await attack(psUrl, ctx.env, 'ps', paramCount), await attack(url, ctx.env, 'coordinator', paramCount)];
    const after = await pullRaw(psUrl, ctx.env);
    const growth = { ps: (await rssKiB(ps.child.pid!)) - rss.ps, coordinator: (await rssKiB(coordinator.child.pid!)) - rss.coordinator };
    const alive = procs.every((p) => p.child.exitCode === null && p.child.signalCode === null);
    const statusOk = await fetchStatus(url, ctx.env.DPTRAIN_TOKEN!).then(() => true, () => false);
    // Then two workers run the job to the end: refusing the frames changed nothing.
    const env = ctx.env;
    const backend = ctx.job[ctx.job.indexOf('--backend') + 1];
    procs.push(...['worker-0', 'worker-1'].map((name) => startProc(['worker', '--coordinator', url, '--backend', backend, '--name', name], env)));
    const { code } = await coordinator.exit;
    const same = await bitIdentical(ctx, dir);
    const failures = results.flatMap((r) => r.failures);
    const checks = results.reduce((n, r) => n + r.checks, 0);
    const bounded = growth.ps < RSS_BOUND_KIB && growth.coordinator < RSS_BOUND_KIB;
    return {
      ok: failures.length === 0 && alive && statusOk && bounded && before.equals(after) && code === 0 && same,
      detail: `${checks - failures.length}/${checks} refused as expected${failures.length ? ` (${failures.join('; ')})` : ''}; alive ${alive && statusOk}; RSS growth ps ${growth.ps} KiB, coordinator ${growth.coordinator} KiB (bound ${RSS_BOUND_KIB} KiB); params unchanged ${before.equals(after)}; job then bit-identical ${same}`,
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}
