import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { modelOf, PreviousPoint, WalWriter } from '@dptrain/cluster';
import { gather, type Dataset } from '@dptrain/data';
import { planOf, planSizes, type JobDescription } from '@dptrain/job';
import { globalNorm, GradientSum } from '@dptrain/optim';
import { silentLogger } from '@dptrain/log';
import { concatParts, connect, createDecoder, encodeMessage, type Message } from '@dptrain/protocol';
import { trainingSplits, UpdateRule } from '@dptrain/training';
import { costOf, upperMedian as median, type Calibration, type ComputeRun, type LinearCost } from './calibration.js';
import { mainThreadNs } from './main-thread-cpu.js';

/** CPU milliseconds (user + system, this process) `fn` takes. */
function cpuMs(fn: () => unknown): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/**
 * Micro-batches computed before the samples: the wasm kernels and V8's tiers take a few dozen to
 * settle (the first ones take twice the steady time), and the real runs' steady rate leaves out
 * their start too.
 */
const COMPUTE_WARMUP = 40;

/**
 * CPU milliseconds `fn` takes on the main thread, and what the process's other threads (V8's
 * garbage collector and compiler) used meanwhile. The main thread's part is the worker's critical
 * path; the helpers' part competes for the cores without holding it up. Where the main thread's
 * time cannot be read, all of it counts as main.
 */
function threadCpuMs(fn: () => unknown): { main: number; helpers: number } {
  const m0 = mainThreadNs();
  const total = cpuMs(fn);
  const m1 = mainThreadNs();
  if (m0 === undefined || m1 === undefined) return { main: total, helpers: 0 };
  const main = (m1 - m0) / 1e6;
  return { main, helpers: Math.max(0, total - main) };
}

/**
 * Median CPU milliseconds of a synchronous `fn`, timed in batches of `batch` calls (the CPU clock
 * ticks in microseconds at best) over `runs` batches, after `warm` untimed calls. CPU time, not
 * wall time: on a machine shared with other work, wall time would count the time this process
 * waited for a core, which the simulation models itself (time slices, background load).
 */
function medianCpuMs(fn: () => unknown, runs: number, batch = 1, warm = 10): number {
  for (let i = 0; i < warm; i++) fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    times.push(
      cpuMs(() => {
        for (let i = 0; i < batch; i++) fn();
      }) / batch,
    );
  }
  return median(times);
}

/** Fixed cost (a frame without tensors) and per-megabyte cost from two frame sizes. */
function linear(smallMs: number, bigMs: number, bigBytes: number): LinearCost {
  return { fixedMs: smallMs, msPerMB: Math.max(0, ((bigMs - smallMs) * 1e6) / bigBytes) };
}

export interface CalibrateOptions {
  /** Micro-batches timed for the compute distribution. @default 200 */
  readonly computeSamples?: number;
  /** The backend the compute was measured on, as initBackend reported it (the caller initialises it). */
  readonly backend: string;
}

/**
 * Measures, with the real code on this machine, what the simulation's models need: the job's
 * forward and backward per micro-batch (its real data, the backend already initialised), the
 * codec's encode and decode cost of a frame with and without a full gradient, a shard's fold
 * (`GradientSum.add` of a received gradient) and update (the norm check and `UpdateRule.apply`) over the whole vector, and the loopback
 * WebSocket's CPU per message between two processes, and its latency and throughput
 * (measureTransport). CPU costs are medians of CPU time (see medianCpuMs); the coordinator's
 * per-message cost is taking in one small frame and sending one (its book-keeping per message is
 * a few map look-ups).
 */
export async function calibrate(job: JobDescription, dataset: Dataset, options: CalibrateOptions): Promise<Calibration> {
  const config = job.config;
  const model = modelOf(job);
  const P = model.paramCount;
  try {
    // Compute: the job's own micro-batches, in plan order.
    const { train } = trainingSplits(config, dataset);
    const plan = planOf(config, train.count);
    const params = model.init(config.seed);
    const grad = new Float32Array(P);
    const buffers = { x: new Float32Array(config.microBatchSize * train.features), y: new Int32Array(config.microBatchSize) };
    const samples = options.computeSamples ?? 200;
    const microBatches = Array.from({ length: samples + COMPUTE_WARMUP }, (_, i) => microBatchAt(plan, i));
    const computeMs: number[] = [];
    let helperMs = 0;
    microBatches.forEach((mb, i) => {
      const { main, helpers } = threadCpuMs(() => model.computeGradients(params, gather(train, mb.indices, buffers), grad));
      if (i < COMPUTE_WARMUP) return;
      computeMs.push(main);
      helperMs += helpers;
    });

    const computeRuns = measureComputeRuns(model, params, train, plan, config.microBatchSize);

    // Codec: a push with the whole gradient, and a pushAck.
    const grads = new Float32Array(P).fill(1e-3);
    const push = {
      type: 'push',
      seq: 1,
      step: 0,
      microBatchId: 0,
      version: 0,
      generation: 0,
      offset: 0,
      grads,
      loss: 1,
      samples: config.microBatchSize,
    } as unknown as Message;
    const ack = { type: 'pushAck', seq: 2, re: 1, step: 0, microBatchId: 0, status: 'accepted' } as unknown as Message;
    const decode = createDecoder({ paramCount: P, slice: { offset: 0, length: P } });
    const pushFrame = concatParts(encodeMessage(push));
    const ackFrame = concatParts(encodeMessage(ack));
    const encode: LinearCost = linear(
      medianCpuMs(() => concatParts(encodeMessage(ack)), 21, 200),
      medianCpuMs(() => concatParts(encodeMessage(push)), 21, 5),
      4 * P,
    );
    const decodeCost: LinearCost = linear(
      medianCpuMs(() => decode(ackFrame), 21, 200),
      medianCpuMs(() => decode(pushFrame), 21, 5),
      4 * P,
    );

    // Shard: fold and optimizer step over the whole vector.
    const plan2 = planSizes(job);
    const rule = new UpdateRule(config, P, plan2.totalSteps, plan2.stepsPerEpoch);
    rule.optimizer.buffers.params.set(params);
    const acc = rule.optimizer.buffers.grads;
    const sum = new GradientSum(P);
    const foldMs = medianCpuMs(() => sum.add(grads), 21, 10);
    // Every real update first checks its mean gradient finite by its norm (ShardState): a pass over the slice.
    const applyMs = medianCpuMs(
      () => {
        acc.set(grads);
        if (!Number.isFinite(globalNorm(acc))) throw new RangeError('the calibration gradient is not finite');
        rule.apply(rule.optimizer.buffers.params, acc);
      },
      21,
      10,
    );
    const copyMs = medianCpuMs(() => acc.set(grads), 21, 10);
    const updateLogMs = measureUpdateLog(params, grads);

    // Five times, each figure the median of the five: a garbage collection landing in one measurement moves it far.
    const tries: Awaited<ReturnType<typeof measureTransport>>[] = [];
    for (let i = 0; i < 5; i++) tries.push(await measureTransport(P, encode, decodeCost));
    const mid = (f: (t: (typeof tries)[number]) => number) => median(tries.map(f));
    const transport: LinearCost = { fixedMs: mid((t) => t.transport.fixedMs), msPerMB: mid((t) => t.transport.msPerMB) };
    const receiveHelperMsPerMB = mid((t) => t.receiveHelperMsPerMB);
    const wire = { latencyMs: mid((t) => t.wire.latencyMs), bandwidthMBps: mid((t) => t.wire.bandwidthMBps) };
    return {
      source: `measured on ${hostname()} at ${new Date().toISOString()}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, backend ${options.backend}`,
      model: { name: config.model, paramCount: P, microBatchSize: config.microBatchSize, backend: options.backend },
      computeMs,
      computeHelperMs: helperMs / samples,
      computeRuns,
      encode,
      decode: decodeCost,
      transport,
      receiveHelperMsPerMB,
      foldMsPerMFloat: (foldMs * 1e6) / P,
      applyMsPerMFloat: (Math.max(0, applyMs - copyMs) * 1e6) / P,
      updateLogMsPerMFloat: (updateLogMs * 1e6) / P,
      // Each message the coordinator handles is taken in and answered by one (a lease, a reply).
      coordinatorMsPerMessage: encode.fixedMs + decodeCost.fixedMs + 2 * transport.fixedMs,
      wire,
      cores: cpus().length,
    };
  } finally {
    model.dispose();
  }
}

/** The job's `i`-th micro-batch in plan order, round the plan again when a short job has fewer. */
function microBatchAt(plan: ReturnType<typeof planOf>, i: number) {
  return plan.step(Math.floor(i / plan.microBatchesPerStep) % plan.totalSteps).microBatches[i % plan.microBatchesPerStep]!;
}

/** Longest run of micro-batches computed in one pass that the calibration measures, at least. */
const LONGEST_RUN = 4;

/**
 * Runs of 2..max(LONGEST_RUN, micro-batches per step) micro-batches of the job's first steps
 * computed in one pass (Model.computeGradientsEach, as a sync worker computes its lease's leading
 * run): median main-thread CPU per run after a few untimed runs, and the helper threads' mean.
 */
function measureComputeRuns(
  model: ReturnType<typeof modelOf>,
  params: Float32Array,
  train: ReturnType<typeof trainingSplits>['train'],
  plan: ReturnType<typeof planOf>,
  microBatchSize: number,
): ComputeRun[] {
  const longest = Math.max(LONGEST_RUN, plan.microBatchesPerStep);
  const counts = Array.from({ length: longest - 1 }, (_, i) => i + 2);
  const buffers = Array.from({ length: longest }, () => ({ x: new Float32Array(microBatchSize * train.features), y: new Int32Array(microBatchSize) }));
  const grads = Array.from({ length: longest }, () => new Float32Array(model.paramCount));
  let n = 0;
  const runOf = (count: number) => {
    // Micro-batches of one step when it has enough, else of consecutive steps.
    const batches = Array.from({ length: count }, (_, k) => {
      return gather(train, microBatchAt(plan, n++).indices, buffers[k]);
    });
    return threadCpuMs(() => model.computeGradientsEach(params, batches, grads.slice(0, count)));
  };
  // Every length warmed first (each is new work for the kernels), then timed in turns, so a slow
  // stretch of the machine or the runtime falls on all lengths alike.
  for (let i = 0; i < 10; i++) for (const count of counts) runOf(count);
  const main = counts.map(() => [] as number[]);
  const helpers = counts.map(() => 0);
  const timed = 40;
  for (let i = 0; i < timed; i++)
    counts.forEach((count, c) => {
      const t = runOf(count);
      main[c].push(t.main);
      helpers[c] += t.helpers;
    });
  return counts.map((count, c) => ({ count, ms: median(main[c]), helperMs: helpers[c] / timed }));
}

/**
 * What a durable shard (`dptrain local` gives every shard a checkpoint folder) does before each
 * update besides the optimizer: append the update to its write-ahead log (crc32 and a write to
 * the kernel, no fsync) and keep a copy of the point it served (previous-point.ts). Median CPU
 * milliseconds for the whole vector, with the real WalWriter and PreviousPoint in a temporary
 * folder.
 */
function measureUpdateLog(params: Float32Array, grad: Float32Array): number {
  const dir = mkdtempSync(join(tmpdir(), 'dptrain-calibrate-'));
  try {
    const wal = WalWriter.create(dir, 0, 'calibration');
    const previous = new PreviousPoint(params.length, false, undefined);
    let version = 0;
    try {
      return medianCpuMs(
        () => {
          wal.append({ version, step: version, microBatchIds: [0], losses: [1], grad });
          previous.save({ version: version++, params, point: params, bnState: undefined });
        },
        21,
        5,
      );
    } finally {
      wal.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU milliseconds of a whole process and of its main thread. */
interface Sides {
  readonly all: number;
  readonly main: number;
}

/** Starts transport-peer.ts in a process of its own; resolves with its URL and a way to stop it. */
async function startPeer(floats: number): Promise<{ url: string; stop: () => void }> {
  // Through the package, not this module's URL: bundled into the command, this code runs from apps/cli/dist.
  const script = join(dirname(createRequire(import.meta.url).resolve('@dptrain/simulator')), 'transport-peer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(floats)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = (): void => {
    child.stdin!.end();
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', resolve);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the calibration's transport peer (${script}) exited with code ${code} before it listened`)));
    });
    return { url, stop };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/**
 * The real transport over loopback between two processes, as between a worker and a shard: a
 * client here and transport-peer.ts in a child process, which reports its CPU time. Three
 * rounds, each timed on both sides (CPU time): two small frames (a status request and its
 * reply), a full gradient pushed and a small ack back, a small pull and the full vector back.
 * A small frame costs each side the same; a big one's sending and receiving costs come from the
 * push and pull rounds (each the mean of the two sides that show it). Less the codec's measured
 * encoding and decoding, that is the transport's CPU per side (socket writes and reads, kernel
 * copies, ws framing), fixed + per megabyte. The wall time neither side spent on CPU is the
 * wire: latency from the small round, throughput from the extra time of the big ones (10 GB/s
 * when there is none to measure).
 */
async function measureTransport(
  P: number,
  encode: LinearCost,
  decode: LinearCost,
): Promise<{ transport: LinearCost; receiveHelperMsPerMB: number; wire: { latencyMs: number; bandwidthMBps: number } }> {
  const peer = await startPeer(P);
  const grads = new Float32Array(P).fill(1e-3);
  const client = await connect(peer.url, {
    token: 'calibration-of-this-machine',
    jobId: 'calibration',
    role: 'worker',
    validateOptions: { paramCount: P },
    log: silentLogger,
  });
  const serverCpu = async (): Promise<{ all: number; main: number }> => {
    const detail = (await client.request({ type: 'status' })).detail as { cpuMs: number; mainCpuMs: number };
    return { all: detail.cpuMs, main: detail.mainCpuMs };
  };
  /**
   * Median per-round CPU of this side and of the peer, their main threads' part, and the least
   * wall time, over batches of `n` rounds.
   */
  const measure = async (round: () => Promise<unknown>, n: number, batches = 9): Promise<{ client: Sides; server: Sides; wall: number }> => {
    for (let i = 0; i < 10; i++) await round();
    const client: Sides[] = [];
    const server: Sides[] = [];
    let wall = Infinity;
    for (let b = 0; b < batches; b++) {
      const s0 = await serverCpu();
      const c0 = process.cpuUsage();
      const m0 = mainThreadNs() ?? 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await round();
      wall = Math.min(wall, (performance.now() - t0) / n);
      const c = process.cpuUsage(c0);
      const all = (c.user + c.system) / 1000 / n;
      const m1 = mainThreadNs();
      client.push({ all, main: m1 === undefined ? all : (m1 - m0) / 1e6 / n });
      const s1 = await serverCpu();
      server.push({ all: (s1.all - s0.all) / n, main: (s1.main - s0.main) / n });
    }
    const mid = (sides: Sides[]): Sides => ({ all: median(sides.map((x) => x.all)), main: median(sides.map((x) => x.main)) });
    return { client: mid(client), server: mid(server), wall };
  };
  try {
    const small = await measure(() => client.request({ type: 'status' }), 100);
    // The server's figure includes one status round per batch besides the n measured: negligible at n ≥ 20.
    const push = await measure(
      () => client.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 }),
      20,
      25,
    );
    const pull = await measure(() => client.request({ type: 'pull', step: 0 }), 20, 25);
    const bytes = 4 * P;
    const MB = bytes / 1e6;
    // Main threads: the transport's cost on the critical path of each side.
    const smallSide = (small.client.main + small.server.main) / 4;
    const sendBig = (push.client.main - smallSide + (pull.server.main - smallSide)) / 2;
    const receiveBig = (push.server.main - smallSide + (pull.client.main - smallSide)) / 2;
    const fixedMs = Math.max(0, smallSide - (encode.fixedMs + decode.fixedMs) / 2);
    const sendPerMB = (sendBig - costOf(encode, bytes) - fixedMs) / MB;
    const receivePerMB = (receiveBig - costOf(decode, bytes) - fixedMs) / MB;
    const transport: LinearCost = { fixedMs, msPerMB: Math.max(0, (sendPerMB + receivePerMB) / 2) };
    // The other threads: collecting a received frame's buffers (the receiving side's helpers, beyond a small round's).
    const helpers = (x: Sides) => Math.max(0, x.all - x.main);
    const smallHelpers = (helpers(small.client) + helpers(small.server)) / 2;
    const receiveHelperMsPerMB = Math.max(0, ((helpers(push.server) + helpers(pull.client)) / 2 - smallHelpers) / MB);
    // The wire is the wall time neither main thread ran: the helpers' CPU runs beside them and hid it.
    const idle = (x: { wall: number; client: Sides; server: Sides }) => x.wall - x.client.main - x.server.main;
    const idleSmall = Math.max(0, idle(small));
    const idleBig = Math.max(0, (idle(push) + idle(pull)) / 2);
    const latencyMs = Math.max(0.005, idleSmall / 2);
    const wireMs = idleBig - idleSmall;
    const bandwidthMBps = wireMs > bytes / 1e10 ? Math.min(10_000, bytes / 1e3 / wireMs) : 10_000;
    return { transport, receiveHelperMsPerMB, wire: { latencyMs, bandwidthMBps } };
  } finally {
    client.close();
    peer.stop();
  }
}
