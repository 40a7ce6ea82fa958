import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryPair, type Connection } from '@dptrain/protocol';
import { type LogRecord } from '@dptrain/log';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { packMoments } from '../bn-wire.js';
import type { JobDescription } from '@dptrain/job';
import { modelOf } from '../model-of.js';
import { tinyJob } from '../testing.js';
import { ParameterServer, type OpenOptions } from './parameter-server.js';
import { ShardDurability, type DurabilityOptions } from './shard-durability.js';

const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ps-resume-'));
  dirs.push(dir);
  return dir;
}

/**
 * The durability property: a shard driven for k steps, dropped at some point ("crashed") and
 * opened again with resume holds the same bits as a shard that never stopped — parameters,
 * optimizer state, batch-norm running statistics, the gradient point — and goes on identically.
 */

function bits(a: Float32Array | undefined): string {
  return a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') : 'none';
}

/** mulberry32: the crash points and push orders are random but repeat from run to run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drives one shard through the real message path, with gradients that depend on (step, id). */
class Driver {
  readonly worker: Connection;
  private readonly specs;

  constructor(
    readonly ps: ParameterServer,
    job: JobDescription,
  ) {
    const pair = createMemoryPair({
      a: { role: 'worker', validateOptions: { paramCount: ps.paramCount } },
      b: { role: 'ps', validateOptions: ps.validateOptions(ps.paramCount) },
    });
    ps.attach(pair.b);
    this.worker = pair.a;
    const model = modelOf(job);
    this.specs = ps.shard === 0 ? model.bnSpecs : [];
    model.dispose();
  }

  push(step: number, id: number, version = step) {
    const { offset, length } = this.ps.range;
    const grads = Float32Array.from({ length }, (_, i) => Math.sin(step * 0.37 + id * 1.3 + (offset + i) * 0.11) * (1 + (i % 5)));
    const bnStats =
      this.specs.length > 0
        ? packMoments(
            this.specs,
            this.specs.map((s, l) => ({
              count: 2,
              mean: Float32Array.from({ length: s.channels }, (_, c) => Math.sin(step + id * 3 + l + c)),
              variance: Float32Array.from({ length: s.channels }, (_, c) => 0.5 + 0.4 * Math.cos(step * 2 + id + l + c)),
            })),
          )
        : undefined;
    return this.worker.request({
      type: 'push',
      step,
      microBatchId: id,
      version,
      generation: 0,
      offset,
      grads,
      loss: step + id / 10,
      samples: 2,
      ...(bnStats ? { bnStats } : {}),
    });
  }
}

/** The order the micro-batches of each step arrive in (the same for the shard and its reference). */
function orders(steps: number, M: number, random: () => number): number[][] {
  return Array.from({ length: steps }, () => {
    const ids = Array.from({ length: M }, (_, i) => i);
    for (let i = M - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    return ids;
  });
}

/** Sync: steps from..to−1 in full. */
async function runSync(d: Driver, order: number[][], from: number, to: number): Promise<void> {
  for (let t = from; t < to; t++) for (const id of order[t]) await d.push(t, id);
}

/** Async: updates from..to−1 of the flattened (step, id) order, each computed `lags[u]` versions back. */
async function runAsync(d: Driver, order: number[][], lags: number[], from: number, to: number): Promise<void> {
  const flat = order.flatMap((ids, t) => ids.map((id) => [t, id] as const));
  for (let u = from; u < to; u++) await d.push(flat[u][0], flat[u][1], Math.max(0, d.ps.version - lags[u]));
}

async function expectSameShard(resumed: ParameterServer, reference: ParameterServer, driverOf: (ps: ParameterServer) => Driver, async: boolean): Promise<void> {
  expect(resumed.version).toBe(reference.version);
  expect(bits(resumed.params)).toBe(bits(reference.params));
  expect(bits(resumed.bnState)).toBe(bits(reference.bnState));
  const [a, b] = [resumed.optimizerState(), reference.optimizerState()];
  expect(a.step).toBe(b.step);
  expect(Object.keys(a.slots)).toEqual(Object.keys(b.slots));
  for (const slot of Object.keys(a.slots)) expect(bits(a.slots[slot]), slot).toBe(bits(b.slots[slot]));
  const { appliedMicroBatches, doubleApplied, stalenessHistogram } = reference.status();
  expect(resumed.status()).toMatchObject({ appliedMicroBatches, doubleApplied, stalenessHistogram });
  expect(resumed.status().doubleApplied).toBe(0);
  expect(resumed.recentApplied()).toEqual(reference.recentApplied());
  if (async) return;
  // The gradient point (Nesterov's look-ahead) and the previous one, as a worker pulls them.
  const pulls = async (ps: ParameterServer) => {
    const w = driverOf(ps).worker;
    const out = [bits((await w.request({ type: 'pull', step: ps.version })).values)];
    if (ps.version > 0)
      out.push(
        bits((await w.request({ type: 'pull', step: ps.version - 1 })).values),
        bits((await w.request({ type: 'pull', step: ps.version - 1, raw: true })).values),
      );
    return out;
  };
  expect(await pulls(resumed)).toEqual(await pulls(reference));
}

interface Scenario {
  readonly job: JobDescription;
  readonly shard?: number;
  /** Steps (sync) or updates (async) applied before the crash. */
  readonly k: number;
  /** Micro-batches of the next step pushed but not applied when the crash comes (sync). */
  readonly buffered?: number;
  readonly crash: 'plain' | 'after-log-append' | 'before-log-append' | 'inside-checkpoint';
  readonly durability: Omit<DurabilityOptions, 'dir' | 'resume'>;
  readonly seed: number;
}

const opened: ParameterServer[] = [];
afterEach(async () => {
  for (const ps of opened.splice(0)) await ps.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

async function open(options: OpenOptions): Promise<ParameterServer> {
  const ps = await ParameterServer.open(options);
  opened.push(ps);
  return ps;
}

/** Runs the scenario; returns the log records of the resumed shard's opening. */
async function crashAndResume(s: Scenario): Promise<LogRecord[]> {
  const async = s.job.config.mode === 'async';
  const shard = s.shard ?? 0;
  const dir = tempDir();
  const random = rng(s.seed);
  const reference = new ParameterServer({ job: s.job, shard });
  const M = reference.plan.microBatchesPerStep;
  const order = orders(reference.plan.totalSteps, M, random);
  const lags = Array.from({ length: reference.plan.totalSteps * M }, () => Math.floor(random() * (s.job.config.staleness + 1)));
  const drivers = new Map<ParameterServer, Driver>();
  const driverOf = (ps: ParameterServer) => drivers.get(ps) ?? drivers.set(ps, new Driver(ps, s.job)).get(ps)!;
  const run = (ps: ParameterServer, from: number, to: number) =>
    async ? runAsync(driverOf(ps), order, lags, from, to) : runSync(driverOf(ps), order, from, to);

  const refused: LogRecord[] = [];
  let stalled: (record: LogRecord) => void = () => undefined;
  const stall = new Promise<LogRecord>((resolve) => (stalled = resolve));
  const fatal: Error[] = [];
  const first = await open({
    job: s.job,
    shard,
    log: (r) => (r.event === 'checkpoint-stalled' ? stalled(r) : refused.push(r)),
    onFatal: (e) => fatal.push(e),
    durability: { ...s.durability, dir, resume: false },
  });
  let applied = s.k;
  if (s.crash === 'after-log-append' || s.crash === 'before-log-append') {
    // The process dies just after (or just before) the record of update k reaches the log. Async
    // logs an update before making it; sync makes it and answers the held pulls first.
    const logged = s.crash === 'after-log-append';
    const append = ShardDurability.prototype.append;
    vi.spyOn(ShardDurability.prototype, 'append').mockImplementation(function (this: ShardDurability, record) {
      if (logged || record.version !== s.k) append.call(this, record);
      if (record.version === s.k) throw new Error(`killed ${s.crash === 'after-log-append' ? 'after' : 'before'} the log append of update ${s.k}`);
    });
    await run(first, 0, s.k);
    // Sync acknowledges the step's last push before it applies the step; async after it applies.
    await run(first, s.k, s.k + 1).catch((error: { code?: string }) => expect(error.code).toBe('E_INTERNAL'));
    vi.restoreAllMocks();
    applied = logged ? s.k + 1 : s.k;
    expect(first.version).toBe(async ? s.k : s.k + 1);
    if (async) {
      // The update was refused: the push is answered with the error and the shard is as before.
      expect(refused).toContainEqual(expect.objectContaining({ event: 'ps-refused', code: 'E_INTERNAL', message: expect.stringContaining('log append') }));
      expect(fatal).toEqual([]);
    } else {
      // The update was made and served: the shard must stop.
      expect(fatal.map((e) => e.message)).toEqual([expect.stringContaining(`write-ahead log append of version ${s.k} failed`)]);
      expect(refused).toContainEqual(expect.objectContaining({ event: 'wal-append-failed', version: s.k }));
    }
  } else {
    await run(first, 0, s.k);
    if (!async) for (const id of order[s.k].slice(0, s.buffered ?? 0)) await driverOf(first).push(s.k, id);
  }
  let leftover: { path: string; bytes: Buffer } | undefined;
  if (s.crash === 'inside-checkpoint') {
    // What SIGKILL leaves behind: the half-written temporary file (close() would remove it).
    const path = String((await stall).path);
    leftover = { path, bytes: readFileSync(path) };
  } else {
    await first.checkpointsSettled();
  }
  const firstBits = s.crash.endsWith('log-append') ? undefined : bits(first.params);
  await first.close();
  if (leftover) writeFileSync(leftover.path, leftover.bytes);

  await run(reference, 0, applied);
  // The crashed shard was where the reference is now (a check of the harness itself).
  if (firstBits) expect(firstBits).toBe(bits(reference.params));
  const events: LogRecord[] = [];
  const resumed = await open({ job: s.job, shard, log: (r) => events.push(r), durability: { ...s.durability, dir, resume: true } });
  await expectSameShard(resumed, reference, driverOf, async);
  // and both go on the same way, the buffered micro-batches pushed again
  const more = async ? 2 * M + 1 : 3;
  await run(resumed, applied, applied + more);
  await run(reference, applied, applied + more);
  await expectSameShard(resumed, reference, driverOf, async);
  expect(resumed.status().appliedMicroBatches).toBe(async ? applied + more : (applied + more) * M);
  return events;
}

const every = { every: 3, keep: 2 };
const adam = tinyJob({ epochs: 3 }); // 24 steps of M = 4
const nesterov = tinyJob({ epochs: 3, optimizer: 'nesterov', momentum: 0.9, lr: 0.05 });
const asyncJob = tinyJob({ epochs: 3, mode: 'async', staleness: 2 });
// A CNN with two batch-norm layers on 8×8 inputs, over two shards (shard 0 keeps the running statistics).
const cnn: JobDescription = { ...tinyJob({ epochs: 3, model: 'cnn', hidden: undefined, psShards: 2 }), inputShape: [8, 8, 1] };

describe('ParameterServer resume', () => {
  const random = rng(2024);
  const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  for (const [name, job] of [
    ['adam', adam],
    ['nesterov', nesterov],
  ] as const) {
    const k = pick(4, 17);
    const buffered = pick(1, 3);
    it(`${name}: crash after ${k} steps with ${buffered} pushes of step ${k} buffered → same bits`, async () => {
      const events = await crashAndResume({ job, k, buffered, crash: 'plain', durability: every, seed: k });
      expect(events.find((e) => e.event === 'shard-restored')).toMatchObject({ version: k, checkpointStep: k - (k % 3), replayed: k % 3 });
    });
    it(`${name}: crash right after the log append of step ${k} (its pulls answered, stepApplied not sent) → restored at ${k + 1}`, async () => {
      await crashAndResume({ job, k, crash: 'after-log-append', durability: every, seed: k + 1 });
    });
    it(`${name}: crash after step ${k} was made and its pulls answered, before its log append → restored at ${k}, the step pushed again gives the same bits`, async () => {
      await crashAndResume({ job, k, crash: 'before-log-append', durability: every, seed: k + 2 });
    });
  }

  it('adam: crash at a checkpoint boundary, and with checkpoints off (the log alone from step 0)', async () => {
    const atBoundary = await crashAndResume({ job: adam, k: 9, buffered: 3, crash: 'plain', durability: every, seed: 9 });
    expect(atBoundary.find((e) => e.event === 'shard-restored')).toMatchObject({ version: 9, checkpointStep: 9, replayed: 0 });
    const logOnly = await crashAndResume({ job: adam, k: 7, crash: 'plain', durability: { every: 0, keep: 1 }, seed: 7 });
    expect(logOnly.find((e) => e.event === 'shard-restored')).toMatchObject({ version: 7, checkpointStep: null, replayed: 7 });
  });

  it('crash inside the stalled write of the checkpoint of step 6: the temp file is skipped, step 3 loads, the logs replay to 8', async () => {
    const events = await crashAndResume({ job: adam, k: 8, crash: 'inside-checkpoint', durability: { ...every, stallCheckpointStep: 6 }, seed: 8 });
    expect(events.filter((e) => e.event.startsWith('checkpoint-')).map((e) => [e.event, e.step ?? String(e.reason).split(' ')[0]])).toEqual([
      ['checkpoint-skipped', 'temporary'],
      ['checkpoint-loaded', 3],
    ]);
    expect(events.find((e) => e.event === 'shard-restored')).toMatchObject({ version: 8, replayed: 5 });
  });

  it('a batch-norm CNN over two shards: each shard, crashed on either side of a log append, comes back bit for bit', async () => {
    for (const shard of [0, 1]) await crashAndResume({ job: cnn, shard, k: 5, crash: 'after-log-append', durability: every, seed: 5 + shard });
    await crashAndResume({ job: cnn, shard: 0, k: 6, crash: 'before-log-append', durability: every, seed: 6 });
    await crashAndResume({ job: cnn, shard: 0, k: 4, buffered: 2, crash: 'plain', durability: every, seed: 4 });
  });

  it('async: crash after an update that is not on a step boundary → same bits, staleness histogram and ledger', async () => {
    const k = pick(14, 40);
    const events = await crashAndResume({ job: asyncJob, k, crash: 'plain', durability: { every: 2, keep: 2 }, seed: k });
    expect(events.find((e) => e.event === 'shard-restored')).toMatchObject({ version: k, replayed: k % 8 });
    await crashAndResume({ job: asyncJob, k: 13, crash: 'after-log-append', durability: { every: 2, keep: 2 }, seed: 13 });
  });
});
