import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { LeaseTickets } from '@dptrain/cluster';
import { WebSocket } from 'ws';
import {
  connect,
  connectBrowser,
  mintJoinToken,
  type BrowserSocketClass,
  encodeMessage,
  concatParts,
  isProtocolError,
  maxPayloadFor,
  MIN_PEER_MAX_PAYLOAD,
  PROTOCOL_VERSION,
  type Connection,
  type ConnectOptions,
  type Message,
} from '@dptrain/protocol';
import { fetchStatus } from '../cluster/status-http.js';
import { startCoordinatorAndShard, type HandStarted } from './hand-cluster.js';
import { bitIdentical, startProc, summaryFaults, waitFor } from './processes.js';
import { dpFrame, errorCodes, pullRaw, rawClient, rssKiB } from './raw-peer.js';
import type { Context, Outcome } from './types.js';

// Peers that hold the job's token and misbehave on purpose (docs/SECURITY.md): each scenario runs
// its attack against a live coordinator and shard, then two honest workers finish the job, which
// must end with the reference bits, or fail within a bound naming the cause.

/** A protocol client of the job (it holds the token), logging nothing. */
function peer(url: string, ctx: Context, options: Partial<ConnectOptions> = {}): Promise<Connection> {
  return connect(url, { role: 'worker', jobId: ctx.env.DPTRAIN_JOB!, token: ctx.env.DPTRAIN_TOKEN!, name: 'chaos-attacker', log: () => undefined, ...options });
}

/** The handshake headers of a worker of the job, for raw clients. */
function headersOf(ctx: Context, maxPayload: number): Record<string, string> {
  return {
    Authorization: `Bearer ${ctx.env.DPTRAIN_TOKEN}`,
    'x-dptrain-role': 'worker',
    'x-dptrain-version': String(PROTOCOL_VERSION),
    'x-dptrain-job': ctx.env.DPTRAIN_JOB!,
    'x-dptrain-max-payload': String(maxPayload),
  };
}

/** The code a request was answered with ('ok' for a reply). */
const codeOf = (request: Promise<unknown>): Promise<string> =>
  request.then(
    () => 'ok',
    (e: unknown) => (isProtocolError(e) ? e.code : String(e)),
  );

/** Two honest workers finish the job; whether it ended well and with the reference's bits. */
async function finish(ctx: Context, dir: string, cluster: HandStarted): Promise<{ code: number | null; same: boolean; faults: string[] }> {
  cluster.addWorkers(['worker-0', 'worker-1']);
  const { code } = await cluster.coordinator.exit;
  return { code, same: await bitIdentical(ctx, dir), faults: code === 0 ? await summaryFaults(dir) : [] };
}

/** Runs `attack` against a fresh coordinator and shard, then the honest workers; pass when nothing failed and the bits match. */
async function underAttack(ctx: Context, dir: string, attack: (cluster: HandStarted, failures: string[]) => Promise<string>): Promise<Outcome> {
  await ctx.reference();
  const cluster = await startCoordinatorAndShard(ctx, dir);
  try {
    const failures: string[] = [];
    const seen = await attack(cluster, failures);
    const alive = cluster.alive();
    const { code, same, faults } = await finish(ctx, dir, cluster);
    return {
      ok: failures.length === 0 && alive && code === 0 && same,
      detail: `${seen}${failures.length ? `; FAILED: ${failures.join('; ')}` : ''}; alive ${alive}; faults [${faults.join(', ')}]; bit-identical ${same}`,
    };
  } finally {
    cluster.stop();
  }
}

/** 13: a 1-byte declared max payload (an error reply to it used to throw and end the shard), then the floor. */
export function tinyPayloadPeer(ctx: Context, dir: string): Promise<Outcome> {
  return underAttack(ctx, dir, async ({ url, psUrl }, failures) => {
    for (const [role, at] of [
      ['ps', psUrl],
      ['coordinator', url],
    ] as const) {
      const tiny = await rawClient(at, headersOf(ctx, 1));
      tiny.close();
      if (tiny.status !== 400 || !tiny.body.includes('E_HANDSHAKE'))
        failures.push(`${role}: a 1-byte max payload got ${tiny.status} ${tiny.body.slice(0, 80)}`);
      const floor = await rawClient(at, headersOf(ctx, MIN_PEER_MAX_PAYLOAD));
      floor.send(dpFrame([0x92, 0xc1, 0x90]));
      await waitFor(`${role} to answer a bad frame`, () => errorCodes(floor).length > 0, 60_000).catch(() => undefined);
      if (errorCodes(floor)[0] !== 'E_MALFORMED') failures.push(`${role}: the floor peer's bad frame got ${errorCodes(floor)[0] ?? 'no answer'}`);
      floor.close();
    }
    return 'max payload 1 refused at the handshake (400 E_HANDSHAKE) by shard and coordinator; at the floor a bad frame is answered E_MALFORMED';
  });
}

/** 14: finite pushes near 3e38 whose float32 sum overflows, with tickets the token holder minted. */
export async function overflowingPushes(ctx: Context, dir: string): Promise<Outcome> {
  const cluster = await startCoordinatorAndShard(ctx, dir);
  try {
    const paramCount = (await pullRaw(cluster.psUrl, ctx.env)).length / 4;
    const tickets = new LeaseTickets(ctx.env.DPTRAIN_TOKEN!, ctx.env.DPTRAIN_JOB!);
    const shard = await peer(cluster.psUrl, ctx, { validateOptions: { paramCount }, maxPayload: maxPayloadFor(paramCount) });
    const grads = new Float32Array(paramCount).fill(3e38);
    const acks = await Promise.all(
      [0, 1, 2, 3].map((id) =>
        codeOf(
          shard.request({
            type: 'push',
            step: 0,
            microBatchId: id,
            version: 0,
            generation: 0,
            offset: 0,
            grads,
            loss: 1,
            samples: 8,
            leaseId: 1e6,
            ticket: tickets.mint(0, id, 1e6),
          }),
        ),
      ),
    );
    const exit = await Promise.race([cluster.coordinator.exit, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 120_000).unref())]);
    const said = cluster.coordinator.stderr.find((l) => l.includes('refused step 0') && l.includes('not finite'));
    shard.close();
    return {
      ok: exit?.code === 1 && said !== undefined,
      detail: `pushes acknowledged ${acks.join(', ')}; the coordinator exited ${exit ? exit.code : 'not within 120 s'}${said ? ` saying "${said.slice(said.indexOf('E_NON_FINITE'), said.indexOf('E_NON_FINITE') + 160)}…"` : ', without naming the refused step'}`,
    };
  } finally {
    cluster.stop();
  }
}

/**
 * 15: pushes of the current step without a lease ticket, or with one that is not the coordinator's,
 * from a peer holding the job's token and from a browser-like peer admitted by a join token.
 */
export function unticketedPushes(ctx: Context, dir: string): Promise<Outcome> {
  return underAttack(ctx, dir, async ({ psUrl }, failures) => {
    const paramCount = (await pullRaw(psUrl, ctx.env)).length / 4;
    const tokenHolder = await peer(psUrl, ctx, { validateOptions: { paramCount }, maxPayload: maxPayloadFor(paramCount) });
    const joined = await connectBrowser(psUrl, {
      role: 'worker',
      jobId: ctx.env.DPTRAIN_JOB!,
      joinToken: mintJoinToken(ctx.env.DPTRAIN_TOKEN!, ctx.env.DPTRAIN_JOB!),
      name: 'chaos-browser',
      peerRole: 'ps',
      validateOptions: { paramCount },
      // ws's client has a page's WebSocket members and masks with random keys, as browsers do.
      WebSocket: WebSocket as unknown as BrowserSocketClass,
      log: () => undefined,
    });
    const grads = new Float32Array(paramCount).fill(0.5);
    const forged = 'A'.repeat(22);
    const attempts = (shard: Connection): Promise<string>[] => [
      ...[0, 1, 2, 3].map((id) =>
        codeOf(shard.request({ type: 'push', step: 0, microBatchId: id, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 8 })),
      ),
      ...[0, 1, 2, 3].map((id) =>
        codeOf(
          shard.request({
            type: 'push',
            step: 0,
            microBatchId: id,
            version: 0,
            generation: 0,
            offset: 0,
            grads,
            loss: 1,
            samples: 8,
            leaseId: 0,
            ticket: forged,
          }),
        ),
      ),
      codeOf(shard.request({ type: 'pushRun', step: 0, microBatchId: 0, count: 4, version: 0, generation: 0, offset: 0, grads, losses: [1, 1, 1, 1] })),
    ];
    const codes = await Promise.all([...attempts(tokenHolder), ...attempts(joined)]);
    tokenHolder.close();
    joined.close();
    const refused = codes.filter((c) => c === 'E_TICKET').length;
    if (refused !== codes.length) failures.push(`answers ${codes.join(', ')}`);
    return `${refused}/${codes.length} pushes without the coordinator's ticket refused E_TICKET (half of them from a peer admitted by a join token)`;
  });
}

/** 16: a worker that answers every lease at once without pushing, and reports a lease it does not hold. */
export function fakeWorker(ctx: Context, dir: string): Promise<Outcome> {
  return underAttack(ctx, dir, async ({ url }, failures) => {
    const fake = await peer(url, ctx);
    let answered = 0;
    const refusals: string[] = [];
    let shutdown = '';
    // Listening before registering: the first lease may come in the same read as the reply.
    fake.on('message', (msg: Message) => {
      if (msg.type === 'lease') {
        answered++;
        void fake.send({
          type: 'leaseDone',
          leaseId: msg.leaseId,
          step: msg.step,
          microBatchIds: msg.microBatchIds,
          losses: msg.microBatchIds.map(() => 0.5),
          computeMs: 0,
        });
        if (answered === 1)
          void fake.send({
            type: 'leaseDone',
            leaseId: msg.leaseId + 1000,
            step: msg.step,
            microBatchIds: msg.microBatchIds,
            losses: msg.microBatchIds.map(() => 0.5),
            computeMs: 0,
          });
      } else if (msg.type === 'error') refusals.push(msg.code);
      else if (msg.type === 'shutdown') shutdown = msg.reason;
    });
    const registered = await fake.request({ type: 'register', name: 'fake-worker', pid: 1, backend: 'none' });
    const beat = setInterval(
      () => void fake.send({ type: 'heartbeat', workerId: registered.workerId, generation: registered.generation, sentAtMs: Date.now() }),
      500,
    );
    try {
      await waitFor('the fake worker to be quarantined', () => shutdown !== '', 120_000);
    } finally {
      clearInterval(beat);
      fake.close();
    }
    if (!refusals.includes('E_RANGE')) failures.push(`a leaseDone for a lease it does not hold got ${refusals.join(', ') || 'no refusal'}`);
    return `fake worker answered ${answered} lease(s) without pushing; a leaseDone of a lease it does not hold refused ${refusals.join(', ')}; it was told "${shutdown.slice(0, 110)}"`;
  });
}

/** 17: a peer that keeps pulling and stops reading the replies. */
export function slowReader(ctx: Context, dir: string): Promise<Outcome> {
  return underAttack(ctx, dir, async ({ ps, psUrl }, failures) => {
    const before = await rssKiB(ps.child.pid!);
    const reader = await rawClient(psUrl, headersOf(ctx, 64 << 20));
    reader.pause();
    const pull = concatParts(encodeMessage({ type: 'pull', seq: 0, step: 0 }));
    const cut = (): boolean => ps.stderr.some((l) => l.includes('"event":"peer-not-reading"'));
    for (let i = 0; i < 5_000 && !cut(); i++) {
      reader.send(pull);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await waitFor('the shard to cut the reader off', cut, 120_000).catch(() => undefined);
    const growth = (await rssKiB(ps.child.pid!)) - before;
    reader.close();
    if (!cut()) failures.push('the shard kept queueing replies');
    if (growth > 64 * 1024) failures.push(`the shard grew by ${growth} KiB, past the 64 MiB a 16 MiB queue and its copies may take`);
    return `the shard cut the non-reading peer off (peer-not-reading) after its RSS grew ${growth} KiB`;
  });
}

/** 18: pulls parked without bound, and more connections than a role may open. */
export function parkedPulls(ctx: Context, dir: string): Promise<Outcome> {
  return underAttack(ctx, dir, async ({ psUrl }, failures) => {
    const paramCount = (await pullRaw(psUrl, ctx.env)).length / 4;
    const shard = await peer(psUrl, ctx, { validateOptions: { paramCount }, maxPayload: maxPayloadFor(paramCount) });
    const held = Array.from({ length: 4 }, () => codeOf(shard.request({ type: 'pull', step: 1 }, { timeoutMs: 600_000 })));
    const [over, far] = await Promise.all([codeOf(shard.request({ type: 'pull', step: 1 })), codeOf(shard.request({ type: 'pull', step: 50 }))]);
    if (over !== 'E_LIMIT' || far !== 'E_RANGE') failures.push(`a 5th held pull got ${over}, a pull 50 steps ahead ${far}`);
    const clients = await Promise.all(
      Array.from({ length: 40 }, () =>
        peer(psUrl, ctx, { role: 'client' }).then(
          (c) => c,
          (e: unknown) => (isProtocolError(e) ? e.code : String(e)),
        ),
      ),
    );
    const limited = clients.filter((c) => c === 'E_LIMIT').length;
    for (const c of clients) if (typeof c !== 'string') c.close();
    if (limited !== 40 - 32) failures.push(`${limited} of 40 client connections refused, expected 8 (maxConnections.client 32)`);
    shard.close();
    await Promise.all(held);
    return `4 pulls held, the 5th refused ${over}, one 50 steps ahead ${far}; ${limited} of 40 client connections refused E_LIMIT`;
  });
}

/** 19: a token holder reads /status and registers under a live worker's id to evict it; half-sent upgrades. */
export async function evictByRegister(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const cluster = await startCoordinatorAndShard(ctx, dir);
  try {
    const failures: string[] = [];
    cluster.addWorkers(['worker-0', 'worker-1']);
    const token = ctx.env.DPTRAIN_TOKEN!;
    type Status = { workers: { workerId: number; name: string }[] };
    let status: Status | undefined;
    await waitFor('two workers in /status', async () => (status = await fetchStatus<Status>(cluster.url, token)).workers.length === 2);
    const anonymous = await fetch(`${cluster.url.replace('ws', 'http')}status`);
    if (anonymous.status !== 401) failures.push(`GET /status without the token answered ${anonymous.status}`);
    const victim = status!.workers[0]!;
    const thief = await peer(cluster.url, ctx);
    const stolen = await codeOf(thief.request({ type: 'register', name: victim.name, pid: 1, backend: 'none', workerId: victim.workerId }));
    thief.close();
    if (stolen !== 'E_AUTH') failures.push(`register under ${victim.name}'s id without its session got ${stolen}`);
    const sockets = Array.from({ length: 200 }, () => tcpConnect(Number(new URL(cluster.url).port), '127.0.0.1').on('error', () => undefined));
    for (const s of sockets) s.write('GET / HTTP/1.1\r\nUpgrade: websocket\r\n');
    const served = await fetchStatus(cluster.url, token).then(
      () => true,
      () => false,
    );
    if (!served) failures.push('the coordinator stopped serving while 200 half-sent upgrades were open');
    const { code } = await cluster.coordinator.exit;
    for (const s of sockets) s.destroy();
    const same = await bitIdentical(ctx, dir);
    const faults = code === 0 ? await summaryFaults(dir) : [];
    if (faults.some((f) => f === 'worker-reconnected' || f === 'worker-disconnected')) failures.push(`the victim lost its place: faults ${faults.join(', ')}`);
    return {
      ok: failures.length === 0 && code === 0 && same,
      detail: `/status without the token ${anonymous.status}; register under ${victim.name}'s id refused ${stolen}; served with 200 half-sent upgrades ${served}; faults [${faults.join(', ')}]; bit-identical ${same}${failures.length ? `; FAILED: ${failures.join('; ')}` : ''}`,
    };
  } finally {
    cluster.stop();
  }
}

/** A read-only tmpfs at `dir`, where this process may mount one (root); else why not. */
function readOnlyMount(dir: string): (() => void) | string {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return () => execFileSync('umount', [dir]);
  } catch (error) {
    return `cannot mount a read-only file system here (${(error as Error).message.split('\n')[0]})`;
  }
}

/** 20: a shard whose checkpoint directory is on a read-only file system. */
export async function readOnlyCheckpoints(ctx: Context, dir: string): Promise<Outcome> {
  // Beside the run folder, not in it: a run refuses a folder something else already uses.
  const readOnly = `${dir}-read-only`;
  const unmount = readOnlyMount(readOnly);
  if (typeof unmount === 'string') return { ok: true, skipped: unmount, detail: '' };
  await ctx.reference();
  const coordinator = startProc(['coordinator', ...ctx.job, '--workers', '2', '--out', dir, '--host', '127.0.0.1', '--port', '0'], ctx.env);
  const procs = [coordinator];
  try {
    const url = `ws://127.0.0.1:${await coordinator.listening}/`;
    const broken = startProc(
      ['ps', '--coordinator', url, '--shard', '0', '--host', '127.0.0.1', '--port', '0', '--checkpoint-dir', join(readOnly, 'checkpoints')],
      ctx.env,
    );
    procs.push(broken);
    const exit = await Promise.race([broken.exit, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 120_000).unref())]);
    const cause = broken.stderr.find((l) => l.includes('EROFS'));
    await waitFor('the coordinator to say what it waits for', () => coordinator.stderr.some((l) => l.includes('"event":"waiting"')), 120_000).catch(
      () => undefined,
    );
    const waiting = coordinator.stderr.find((l) => l.includes('"event":"waiting"'));
    // A shard with a writable directory then serves the job to the end.
    const ps = startProc(
      ['ps', '--coordinator', url, '--shard', '0', '--host', '127.0.0.1', '--port', '0', '--checkpoint-dir', join(dir, 'checkpoints')],
      ctx.env,
    );
    procs.push(ps);
    await ps.listening;
    const backend = ctx.job[ctx.job.indexOf('--backend') + 1]!;
    procs.push(...['worker-0', 'worker-1'].map((name) => startProc(['worker', '--coordinator', url, '--backend', backend, '--name', name], ctx.env)));
    const { code } = await coordinator.exit;
    const same = await bitIdentical(ctx, dir);
    return {
      ok: exit?.code === 1 && cause !== undefined && waiting !== undefined && code === 0 && same,
      detail: `the shard exited ${exit ? exit.code : 'not within 120 s'}${cause ? ` saying "${cause.slice(0, 100)}"` : ' without naming EROFS'}; the coordinator ${waiting ? 'said what it waited for' : 'said nothing'}; then bit-identical ${same}`,
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    unmount();
  }
}
