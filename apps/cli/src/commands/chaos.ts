import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createFaultProxy, createNetns, FrameSplitter, natUnsupported, netnsUnsupported, preambleLength, type FaultProxy, type FaultRule, type Netns } from '@dptrain/fault-proxy';
import { connect, decodeMessage, isProtocolError, PROTOCOL_VERSION, type Connection } from '@dptrain/protocol';
import type { Logger } from '../logger.js';

const BIN = fileURLToPath(new URL('../../bin/dptrain.js', import.meta.url));

/** Options of `dptrain chaos`. */
export interface ChaosOptions {
  /** A scenario name or number, or 'all'. */
  readonly scenario: string;
  /** Where the reference run, each scenario's run folder and chaos.json go. */
  readonly out: string;
  /** Seed of every fault proxy's generator (printed). @default 1 */
  readonly seed: number;
  /** @default 'cpu' */
  readonly backend: 'cpu' | 'wasm';
}

/** One row of the chaos table (also written to chaos.json). */
export interface ChaosRow {
  readonly scenario: string;
  readonly fault: string;
  readonly invariant: string;
  /** 'pass', 'FAIL', 'skipped: …' or 'not yet supported: …'. */
  readonly result: string;
  readonly seconds: number;
  readonly detail: string;
}

interface Context {
  readonly out: string;
  readonly job: readonly string[];
  readonly seed: number;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The fault-free `dptrain train` parameters of the same job. */
  reference(): Promise<Buffer>;
}

interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly skipped?: string;
}

interface Scenario {
  readonly id: number;
  readonly name: string;
  readonly fault: string;
  readonly invariant: string;
  /** The cluster feature the scenario waits for; the scenario is listed, not run. */
  readonly missing?: string;
  readonly run?: (ctx: Context, dir: string) => Promise<Outcome>;
}

/** The small synthetic job every scenario runs: 60 steps of 4 micro-batches. */
function jobArgs(backend: string): string[] {
  return ['--dataset', 'synthetic', '--model', 'mlp', '--hidden', '32', '--batch-size', '32', '--micro-batch-size', '8', '--backend', backend, '--steps', '60', '--optimizer', 'adam'];
}

/** The coordinator marks a silent worker dead after 10 s (CoordinatorOptions.workerTimeoutMs, no flag yet) and sweeps every 2.5 s. */
const WORKER_TIMEOUT_MS = 10_000;
const PAST_TIMEOUT_MS = WORKER_TIMEOUT_MS + 3_000;

export const SCENARIOS: readonly Scenario[] = [
  { id: 1, name: 'worker-sigkill', fault: 'SIGKILL worker-0 after step 5 (sync)', invariant: 'params bit-identical to dptrain train', run: workerSigkill },
  {
    id: 2,
    name: 'worker-sigstop',
    fault: `SIGSTOP worker-0 past the worker timeout, then SIGCONT`,
    invariant: 'worker-timeout recorded, re-leased; late pushes ignored; bit-identical',
    run: workerSigstop,
  },
  { id: 3, name: 'ps-restart', fault: 'SIGKILL a ps shard, restart it from its checkpoint', invariant: 'bit-identical', missing: 'parameter-server checkpoints and resume (ps --resume)' },
  { id: 4, name: 'coordinator-restart', fault: 'SIGKILL the coordinator, restart it', invariant: 'job resumes; bit-identical', missing: 'coordinator state recovery and worker/shard re-registration with a restarted coordinator' },
  { id: 5, name: 'duplicate-push', fault: 'proxy duplicates gradient frames worker-0 → shard 0', invariant: 'shard counts duplicate ≥ 1; bit-identical', run: duplicatePush },
  { id: 6, name: 'reset-mid-frame', fault: 'proxy resets worker-0 ↔ shard 0 inside a gradient frame', invariant: 'each micro-batch applied once; bit-identical', run: resetMidFrame },
  { id: 7, name: 'partition', fault: `worker-0's namespace link down ${PAST_TIMEOUT_MS / 1000} s`, invariant: 'its work re-leased; bit-identical', run: partition },
  { id: 8, name: 'straggler', fault: 'one worker 10× slower', invariant: 'backup lease finishes the step; bit-identical', missing: 'backup (speculative) leases for stragglers' },
  { id: 9, name: 'checkpoint-crash', fault: 'SIGKILL a shard while it writes a checkpoint', invariant: 'previous checkpoint intact; resume bit-identical', missing: 'checkpoints (coordinator-triggered, atomic) and resume' },
  { id: 10, name: 'nan-quarantine', fault: 'a worker pushes NaN gradients', invariant: 'worker quarantined, micro-batch re-leased; bit-identical', missing: 'quarantine of a worker whose pushes are refused E_NON_FINITE' },
  {
    id: 11,
    name: 'hostile-frames',
    fault: 'bad token/version/msgpack, deep nesting, huge lengths, __proto__, unknown ext, oversized, wrong-length and NaN tensors',
    invariant: 'refused with codes; processes alive; RSS bounded; params unchanged',
    run: hostileFrames,
  },
  { id: 12, name: 'all-workers-killed', fault: 'SIGKILL every worker', invariant: 'dptrain local exits non-zero with the reason within 15 s', run: allWorkersKilled },
];

/**
 * `dptrain chaos --scenario NAME|all`: runs fault scenarios against a small local cluster (the
 * synthetic MLP job of jobArgs, 60 steps) and prints one row per scenario: the fault injected,
 * the invariant checked, the result and the time. The reference for "bit-identical" is a
 * fault-free `dptrain train` of the same job: params.safetensors compared byte for byte. Proxy
 * faults follow fixed schedules with a printed seed. Scenarios waiting for cluster features are
 * listed as "not yet supported: <feature>". Exits non-zero when a scenario fails.
 */
export async function runChaos(options: ChaosOptions, logger: Logger): Promise<ChaosRow[]> {
  const chosen = pick(options.scenario);
  await mkdir(options.out, { recursive: true });
  const env = { ...process.env, DPTRAIN_TOKEN: process.env.DPTRAIN_TOKEN ?? randomBytes(24).toString('hex'), DPTRAIN_JOB: `chaos-${process.pid}`, DPTRAIN_LOG_LEVEL: 'info' };
  let reference: Promise<Buffer> | undefined;
  const ctx: Context = {
    out: options.out,
    job: jobArgs(options.backend),
    seed: options.seed,
    env,
    log: logger,
    reference: () =>
      (reference ??= (async () => {
        const dir = join(options.out, 'reference');
        const run = await runCommand(['train', ...jobArgs(options.backend), '--out', dir], env);
        if (run.code !== 0) throw new Error(`the fault-free reference run failed (exit ${run.code}): ${run.stderr.slice(-500)}`);
        return readFile(join(dir, 'params.safetensors'));
      })()),
  };
  logger.info({ seed: options.seed, out: options.out }, `chaos: proxy seed ${options.seed}, run folders in ${options.out}`);
  const rows: ChaosRow[] = [];
  for (const s of chosen) {
    const base = { scenario: `${s.id} ${s.name}`, fault: s.fault, invariant: s.invariant };
    if (s.missing || !s.run) {
      rows.push({ ...base, result: `not yet supported: ${s.missing}`, seconds: 0, detail: '' });
      continue;
    }
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = await s.run(ctx, join(options.out, s.name));
    } catch (error) {
      outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const result = outcome.skipped ? `skipped: ${outcome.skipped}` : outcome.ok ? 'pass' : 'FAIL';
    rows.push({ ...base, result, seconds, detail: outcome.detail });
    logger.info({ scenario: s.name, result, detail: outcome.detail }, `${s.name}: ${result} (${seconds} s) ${outcome.detail}`);
  }
  await writeFile(join(options.out, 'chaos.json'), `${JSON.stringify({ seed: options.seed, rows }, null, 2)}\n`);
  process.stdout.write(table(rows));
  if (rows.some((r) => r.result === 'FAIL')) process.exitCode = 1;
  return rows;
}

function pick(name: string): readonly Scenario[] {
  if (name === 'all') return SCENARIOS;
  const found = SCENARIOS.find((s) => s.name === name || String(s.id) === name);
  if (!found) {
    throw new RangeError(`--scenario ${name} is not a chaos scenario; give 'all' or one of ${SCENARIOS.map((s) => `${s.id}|${s.name}`).join(', ')}`);
  }
  return [found];
}

function table(rows: readonly ChaosRow[]): string {
  const head = ['scenario', 'fault injected', 'invariant checked', 'result', 'time'];
  const body = rows.map((r) => [r.scenario, r.fault, r.invariant, r.result, r.seconds ? `${r.seconds} s` : '']);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((cells) => `| ${cells.join(' | ')} |`)];
  return `${lines.join('\n')}\n`;
}

// ── processes ────────────────────────────────────────────────────────────────────────────────

interface Proc {
  readonly child: ChildProcess;
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the port of the process's first 'listening' line. */
  readonly listening: Promise<number>;
}

function startProc(args: readonly string[], env: NodeJS.ProcessEnv, netns?: Netns): Proc {
  const child = netns
    ? netns.spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = parseJson(line);
      if (event?.event === 'listening') resolve(event.port as number);
    });
    void exit.then(({ code }) => reject(new Error(`dptrain ${args[0]} exited (code ${code}) before listening: ${stderr.filter((l) => !l.startsWith('    at ')).slice(-6).join(' ')}`)));
  });
  listening.catch(() => undefined);
  return { child, stderr, exit, listening };
}

function runCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const proc = startProc(args, env);
  return proc.exit.then(({ code }) => ({ code, stderr: proc.stderr.join('\n') }));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stepsDone(dir: string): Promise<number> {
  return readFile(join(dir, 'metrics.jsonl'), 'utf8').then(
    (text) => text.split('\n').filter((l) => l.includes('"kind":"step"')).length,
    () => 0,
  );
}

/** Polls (50 ms) until `ready` holds, failing with `what` after `timeoutMs`. */
async function waitFor(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

async function bitIdentical(ctx: Context, dir: string): Promise<boolean> {
  const path = join(dir, 'params.safetensors');
  return existsSync(path) && (await readFile(path)).equals(await ctx.reference());
}

async function summaryFaults(dir: string): Promise<string[]> {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { faults?: { kind: string }[] };
  return (summary.faults ?? []).map((f) => f.kind);
}

/** The shard counters from its 'stopping' log line (accepted, duplicate, stale, rejected, pulls). */
function shardCounters(ps: Proc): Record<string, number> {
  for (const line of ps.stderr) {
    const record = parseJson(line);
    if (record && typeof record.duplicate === 'number' && typeof record.accepted === 'number') return record as Record<string, number>;
  }
  return {};
}

// ── dptrain local scenarios ──────────────────────────────────────────────────────────────────

interface LocalRun {
  readonly proc: Proc;
  /** cluster.json once written. */
  cluster(): Promise<{ coordinator: string; processes: { role: string; name: string; pid: number; ports: number[] }[] }>;
}

function startLocal(ctx: Context, dir: string): LocalRun {
  const proc = startProc(['local', ...ctx.job, '--workers', '2', '--out', dir], ctx.env);
  return {
    proc,
    cluster: async () => {
      let parsed: Awaited<ReturnType<LocalRun['cluster']>> | undefined;
      // Read until whole: the file may be caught half-written.
      await waitFor('cluster.json', async () => {
        parsed = await readFile(join(dir, 'cluster.json'), 'utf8')
          .then((t) => JSON.parse(t))
          .catch(() => undefined);
        return parsed !== undefined;
      });
      return parsed!;
    },
  };
}

async function pidOf(run: LocalRun, name: string): Promise<number> {
  const entry = (await run.cluster()).processes.find((p) => p.name === name);
  if (!entry) throw new Error(`cluster.json lists no process named ${name}`);
  return entry.pid;
}

async function workerSigkill(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir);
  const pid = await pidOf(run, 'worker-0');
  await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
  process.kill(pid, 'SIGKILL');
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  return { ok: code === 0 && same && faults.includes('worker-disconnected'), detail: `local exit ${code}; faults ${faults.join(',') || 'none'}; bit-identical ${same}` };
}

async function workerSigstop(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir);
  const pid = await pidOf(run, 'worker-0');
  const status = (await run.cluster()).coordinator.replace('ws://', 'http://') + 'status';
  await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
  process.kill(pid, 'SIGSTOP');
  try {
    await waitFor('the coordinator to time worker-0 out', async () => {
      const body = (await (await fetch(status)).json()) as { faults: { kind: string }[] };
      return body.faults.some((f) => f.kind === 'worker-timeout');
    }, 60_000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  const counters = shardCounters(run.proc);
  return {
    ok: code === 0 && same && faults.includes('worker-timeout') && (counters.rejected ?? 0) === 0,
    detail: `local exit ${code}; faults ${faults.join(',')}; shard duplicate ${counters.duplicate ?? '?'} rejected ${counters.rejected ?? '?'}; bit-identical ${same}`,
  };
}

async function allWorkersKilled(ctx: Context, dir: string): Promise<Outcome> {
  const run = startLocal(ctx, dir);
  const cluster = await run.cluster();
  await waitFor('2 steps', async () => (await stepsDone(dir)) >= 2);
  for (const p of cluster.processes) if (p.role === 'worker') process.kill(p.pid, 'SIGKILL');
  const killedAt = performance.now();
  const ended = await Promise.race([run.proc.exit, delay(15_000).then(() => undefined)]);
  const waited = (performance.now() - killedAt) / 1000;
  if (!ended) {
    run.proc.child.kill('SIGTERM');
    return { ok: false, detail: 'dptrain local still running 15 s after every worker died' };
  }
  const reason = run.proc.stderr.find((l) => l.includes('no worker is left')) ?? '';
  return { ok: ended.code !== 0 && reason !== '', detail: `exit ${ended.code} after ${waited.toFixed(1)} s: ${reason.slice(0, 160)}` };
}

// ── hand-started cluster (a worker in a network namespace) ───────────────────────────────────

interface HandCluster {
  readonly coordinator: Proc;
  readonly ps: Proc;
  readonly workers: Proc[];
  readonly netns: Netns;
  readonly host: string;
  readonly psPort: number;
  stop(): void;
}

/**
 * Coordinator and one shard listen on the host end of a veth pair; worker-0 runs inside the
 * namespace (so its link can be cut, or its shard traffic redirected to a proxy), worker-1 outside.
 * `beforeWorkers` runs once the shard is listening.
 */
async function handCluster(ctx: Context, dir: string, beforeWorkers: (c: { netns: Netns; host: string; psPort: number }) => Promise<void> = async () => undefined): Promise<HandCluster> {
  const netns = createNetns();
  const host = netns.hostAddress;
  const procs: Proc[] = [];
  const stop = (): void => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    netns.destroy();
  };
  try {
    const coordinator = startProc(['coordinator', ...ctx.job, '--workers', '2', '--out', dir, '--host', host, '--port', '0'], ctx.env);
    procs.push(coordinator);
    const url = `ws://${host}:${await coordinator.listening}/`;
    const ps = startProc(['ps', '--coordinator', url, '--shard', '0', '--host', host, '--port', '0', '--name', 'ps-0'], ctx.env);
    procs.push(ps);
    const psPort = await ps.listening;
    await beforeWorkers({ netns, host, psPort });
    const backend = ctx.job[ctx.job.indexOf('--backend') + 1];
    const workers = [startProc(['worker', '--coordinator', url, '--backend', backend, '--name', 'worker-0'], ctx.env, netns)];
    procs.push(workers[0]);
    // worker-0 (the one faults hit) joins first, or worker-1 could finish the job alone.
    const status = `http://${host}:${new URL(url).port}/status`;
    await waitFor('worker-0 to register', async () => {
      const body = (await fetch(status)
        .then((r) => r.json())
        .catch(() => ({}))) as { workers?: { name: string }[] };
      return body.workers?.some((w) => w.name === 'worker-0') ?? false;
    }, 60_000);
    workers.push(startProc(['worker', '--coordinator', url, '--backend', backend, '--name', 'worker-1'], ctx.env));
    procs.push(workers[1]);
    return { coordinator, ps, workers, netns, host, psPort, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

function partitionUnsupported(): string | undefined {
  return netnsUnsupported() ?? natUnsupported();
}

/** worker-0's connection to shard 0 goes through a fault proxy (nftables redirect in its namespace). */
async function throughProxy(ctx: Context, dir: string, schedule: FaultRule[]): Promise<{ cluster: HandCluster; proxy: FaultProxy }> {
  let proxy: FaultProxy | undefined;
  const cluster = await handCluster(ctx, dir, async ({ netns, host, psPort }) => {
    proxy = await createFaultProxy({ target: { host, port: psPort }, host, schedule, seed: ctx.seed });
    netns.redirect({ host, port: psPort }, { host, port: proxy.port });
  });
  return { cluster, proxy: proxy! };
}

/** A push of the MLP's gradient is ~100 KB; pulls are < 100 bytes: 1,000 bytes tells them apart. */
const GRADIENT_FRAME = 1000;

async function duplicatePush(ctx: Context, dir: string): Promise<Outcome> {
  const skip = partitionUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  const { cluster, proxy } = await throughProxy(ctx, dir, [{ kind: 'duplicate', minPayloadBytes: GRADIENT_FRAME, messages: [1, 2, 3, 5, 8, 13] }]);
  try {
    const { code } = await cluster.coordinator.exit;
    await cluster.ps.exit;
    const counters = shardCounters(cluster.ps);
    const same = await bitIdentical(ctx, dir);
    return {
      ok: code === 0 && same && (counters.duplicate ?? 0) >= 1,
      detail: `seed ${proxy.seed}; proxy duplicated ${proxy.stats.duplicated}; shard duplicate ${counters.duplicate ?? '?'} accepted ${counters.accepted ?? '?'}; bit-identical ${same}`,
    };
  } finally {
    await proxy.close();
    cluster.stop();
  }
}

async function resetMidFrame(ctx: Context, dir: string): Promise<Outcome> {
  const skip = partitionUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  const { cluster, proxy } = await throughProxy(ctx, dir, [{ kind: 'reset', minPayloadBytes: GRADIENT_FRAME, messages: [3] }]);
  try {
    const { code } = await cluster.coordinator.exit;
    const worker0 = await cluster.workers[0].exit;
    const faults = code === 0 ? await summaryFaults(dir) : [];
    const same = await bitIdentical(ctx, dir);
    return {
      ok: code === 0 && same && proxy.stats.resets === 1,
      detail: `seed ${proxy.seed}; resets ${proxy.stats.resets}; worker-0 exit ${worker0.code} (no reconnection: its lease was re-leased); faults ${faults.join(',')}; bit-identical ${same}`,
    };
  } finally {
    await proxy.close();
    cluster.stop();
  }
}

async function partition(ctx: Context, dir: string): Promise<Outcome> {
  const skip = netnsUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  const cluster = await handCluster(ctx, dir);
  try {
    await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
    cluster.netns.cut();
    await delay(PAST_TIMEOUT_MS);
    cluster.netns.restore();
    const { code } = await cluster.coordinator.exit;
    const faults = code === 0 ? await summaryFaults(dir) : [];
    const same = await bitIdentical(ctx, dir);
    return { ok: code === 0 && same && faults.includes('worker-timeout'), detail: `coordinator exit ${code}; faults ${faults.join(',')}; bit-identical ${same}` };
  } finally {
    cluster.stop();
  }
}

// ── hostile frames ───────────────────────────────────────────────────────────────────────────

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

async function hostileFrames(ctx: Context, dir: string): Promise<Outcome> {
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
    const statusOk = (await fetch(url.replace('ws://', 'http://') + 'status')).ok;
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
