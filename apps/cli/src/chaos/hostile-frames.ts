import { connect, isProtocolError, PROTOCOL_VERSION, type Connection } from '@dptrain/protocol';
import { startCoordinatorAndShard } from './hand-cluster.js';
import { bitIdentical, waitFor } from './processes.js';
import { dpFrame, errorCodes, pullRaw, rawClient, rssKiB, str } from './raw-peer.js';
import { fetchStatus } from '../cluster/status-http.js';
import type { Context, Outcome } from './types.js';

/** Hostile msgpack headers: [body, table] arrays the decoder must refuse, with the code expected. */
const HOSTILE_HEADERS: readonly { name: string; header: number[]; code: string }[] = [
  { name: 'malformed msgpack (0xc1, never used)', header: [0x92, 0xc1, 0x90], code: 'E_MALFORMED' },
  { name: 'nesting 200 deep', header: [0x92, ...new Array<number>(200).fill(0x91), 0xc0, 0x90], code: 'E_MALFORMED' },
  { name: 'array declaring 2^32-1 items', header: [0x92, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x90], code: 'E_MALFORMED' },
  { name: '__proto__ key', header: [0x92, 0x83, ...str('type'), ...str('status'), ...str('seq'), 0x01, ...str('__proto__'), 0x80, 0x90], code: 'E_MALFORMED' },
  { name: 'unknown extension type 0x42', header: [0x92, 0xd4, 0x42, 0x00, 0x90], code: 'E_MALFORMED' },
  { name: 'unknown message type', header: [0x92, 0x82, ...str('type'), ...str('rm-rf'), ...str('seq'), 0x01, 0x90], code: 'E_UNKNOWN_TYPE' },
];

/** Refused upgrades and refused frames against one server; returns one line per check that failed. */
async function attack(url: string, env: NodeJS.ProcessEnv, role: string, paramCount: number): Promise<{ failures: string[]; checks: number }> {
  const token = env.DPTRAIN_TOKEN!;
  const job = env.DPTRAIN_JOB!;
  const good = {
    Authorization: `Bearer ${token}`,
    'x-dptrain-role': 'client',
    'x-dptrain-version': String(PROTOCOL_VERSION),
    'x-dptrain-job': job,
    'x-dptrain-max-payload': '1048576',
  };
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
  await waitFor(`${role} to answer ${HOSTILE_HEADERS.length} hostile frames`, () => errorCodes(client).length >= HOSTILE_HEADERS.length, 60_000).catch(
    () => undefined,
  );
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
  await waitFor(`${role} to close an oversized frame`, () => big.frames.some(([op]) => op === 8), 60_000).catch(() => undefined);
  const close = big.frames.find(([op]) => op === 8);
  if (close?.[1].readUInt16BE(0) !== 1009) failures.push(`${role} oversized frame: expected close 1009, got ${close ? close[1].readUInt16BE(0) : 'no close'}`);
  big.close();

  // Tensors through the real client: a wrong length, then NaN at index 3, to a shard only.
  if (role === 'ps') {
    const worker: Connection = await connect(url, { role: 'worker', jobId: job, token, name: 'chaos-hostile' });
    const push = (grads: Float32Array) =>
      worker.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 8 }, { timeoutMs: 60_000 });
    const wrong = new Float32Array(paramCount + 1);
    const nan = new Float32Array(paramCount);
    nan[3] = Number.NaN;
    for (const [name, grads, code] of [
      ['wrong-length tensor', wrong, 'E_BAD_LENGTH'],
      ['NaN tensor', nan, 'E_NON_FINITE'],
    ] as const) {
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

/** RSS may grow by this much while refusing the frames (buffers for one 1 MiB frame, GC slack). */
const RSS_BOUND_KIB = 64 * 1024;

export async function hostileFrames(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const cluster = await startCoordinatorAndShard(ctx, dir);
  const { coordinator, ps, url, psUrl } = cluster;
  try {
    // No worker has joined: the job waits at step 0, so the parameters must not move.
    const before = await pullRaw(psUrl, ctx.env);
    const paramCount = before.length / 4;
    const rss = { ps: await rssKiB(ps.child.pid!), coordinator: await rssKiB(coordinator.child.pid!) };
    const results = [await attack(psUrl, ctx.env, 'ps', paramCount), await attack(url, ctx.env, 'coordinator', paramCount)];
    const after = await pullRaw(psUrl, ctx.env);
    const growth = { ps: (await rssKiB(ps.child.pid!)) - rss.ps, coordinator: (await rssKiB(coordinator.child.pid!)) - rss.coordinator };
    const alive = cluster.alive();
    const statusOk = await fetchStatus(url, ctx.env.DPTRAIN_TOKEN!).then(
      () => true,
      () => false,
    );
    // Then two workers run the job to the end: refusing the frames changed nothing.
    cluster.addWorkers(['worker-0', 'worker-1']);
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
    cluster.stop();
  }
}
