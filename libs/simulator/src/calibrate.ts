import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus, hostname, loadavg } from 'node:os';
import { modelOf, planSizes, PreviousPoint, WalWriter, type JobDescription } from '@dptrain/cluster';
import { createDataPlan, gather, type Dataset } from '@dptrain/data';
import { accumulate } from '@dptrain/optim';
import { concatParts, connect, createDecoder, createServer, encodeMessage, silentLogger, type Message } from '@dptrain/protocol';
import { trainingSplits, UpdateRule } from '@dptrain/training';
import type { Calibration, LinearCost } from './calibration.js';

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

/** CPU nanoseconds this process's main thread has run (Linux schedstat), or undefined elsewhere. */
function mainThreadNs(): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

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
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Fixed cost (a frame without tensors) and per-megabyte cost from two frame sizes. */
function linear(smallMs: number, bigMs: number, bigBytes: number): LinearCost {
  return { fixedMs: smallMs, msPerMB: Math.max(0, ((bigMs - smallMs) * 1e6) / bigBytes) };
}

export interface CalibrateOptions {
  /** Micro-batches timed for the compute distribution. @default 60 */
  readonly computeSamples?: number;
  /** The backend the compute was measured on, as initBackend reported it (the caller initialises it). */
  readonly backend: string;
}

/**
 * Measures, with the real code on this machine, what the simulation's models need: the job's
 * forward and backward per micro-batch (its real data, the backend already initialised), the
 * codec's encode and decode cost of a frame with and without a full gradient, a shard's fold
 * (`accumulate`) and optimizer step (`UpdateRule.apply`) over the whole vector, and the loopback
 * WebSocket's CPU per message and latency and throughput (measureTransport). CPU costs are
 * medians of CPU time (see medianCpuMs); the coordinator's per-message cost is taken as a small frame's encode plus decode (its
 * book-keeping per message is a few map look-ups).
 */
export async function calibrate(job: JobDescription, dataset: Dataset, options: CalibrateOptions): Promise<Calibration> {
  const config = job.config;
  const model = modelOf(job);
  const P = model.paramCount;
  try {
    // Compute: the job's own micro-batches, in plan order.
    const { train } = trainingSplits(config, dataset);
    const plan = createDataPlan({ numSamples: train.count, batchSize: config.batchSize, microBatchSize: config.microBatchSize, epochs: config.epochs, seed: config.seed });
    const params = model.init(config.seed);
    const grad = new Float32Array(P);
    const buffers = { x: new Float32Array(config.microBatchSize * train.features), y: new Int32Array(config.microBatchSize) };
    const samples = options.computeSamples ?? 60;
    const microBatches = Array.from({ length: samples + COMPUTE_WARMUP }, (_, i) => plan.step(Math.floor(i / plan.microBatchesPerStep)).microBatches[i % plan.microBatchesPerStep]);
    const computeMs: number[] = [];
    let helperMs = 0;
    microBatches.forEach((mb, i) => {
      const { main, helpers } = threadCpuMs(() => model.computeGradients(params, gather(train, mb.indices, buffers), grad));
      if (i < COMPUTE_WARMUP) return;
      computeMs.push(main);
      helperMs += helpers;
    });

    // Codec: a push with the whole gradient, and a pushAck.
    const grads = new Float32Array(P).fill(1e-3);
    const push = { type: 'push', seq: 1, step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: config.microBatchSize } as unknown as Message;
    const ack = { type: 'pushAck', seq: 2, re: 1, step: 0, microBatchId: 0, status: 'accepted' } as unknown as Message;
    const decode = createDecoder({ paramCount: P, slice: { offset: 0, length: P } });
    const pushFrame = concatParts(encodeMessage(push));
    const ackFrame = concatParts(encodeMessage(ack));
    const encode: LinearCost = linear(medianCpuMs(() => concatParts(encodeMessage(ack)), 21, 200), medianCpuMs(() => concatParts(encodeMessage(push)), 21, 5), 4 * P);
    const decodeCost: LinearCost = linear(medianCpuMs(() => decode(ackFrame), 21, 200), medianCpuMs(() => decode(pushFrame), 21, 5), 4 * P);

    // Shard: fold and optimizer step over the whole vector.
    const plan2 = planSizes(job);
    const rule = new UpdateRule(config, P, plan2.totalSteps, plan2.stepsPerEpoch);
    rule.optimizer.buffers.params.set(params);
    const acc = rule.optimizer.buffers.grads;
    const foldMs = medianCpuMs(() => accumulate(acc, grads), 21, 10);
    const applyMs = medianCpuMs(() => {
      acc.set(grads);
      rule.apply(rule.optimizer.buffers.params, acc);
    }, 21, 10);
    const copyMs = medianCpuMs(() => acc.set(grads), 21, 10);
    const updateLogMs = measureUpdateLog(params, grads);

    const { transport, wire } = await measureTransport(P, encode, decodeCost);
    return {
      source: `measured on ${hostname()} at ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, backend ${options.backend}`,
      model: { name: config.model, paramCount: P, microBatchSize: config.microBatchSize, backend: options.backend },
      computeMs,
      computeHelperMs: helperMs / samples,
      encode,
      decode: decodeCost,
      transport,
      foldMsPerMFloat: (foldMs * 1e6) / P,
      applyMsPerMFloat: (Math.max(0, applyMs - copyMs) * 1e6) / P,
      updateLogMsPerMFloat: (updateLogMs * 1e6) / P,
      coordinatorMsPerMessage: encode.fixedMs + decodeCost.fixedMs,
      wire,
      cores: cpus().length,
    };
  } finally {
    model.dispose();
  }
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
      return medianCpuMs(() => {
        wal.append({ version, step: version, microBatchIds: [0], losses: [1], grad });
        previous.save({ version: version++, params, point: params, bnState: undefined });
      }, 21, 5);
    } finally {
      wal.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall and CPU milliseconds of one round of an async `fn`: the least wall time over `runs`, and the median CPU time. */
async function rounds(fn: () => Promise<unknown>, runs: number): Promise<{ wallMs: number; cpuMs: number }> {
  for (let i = 0; i < 10; i++) await fn();
  let wallMs = Infinity;
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wallMs = Math.min(wallMs, performance.now() - t0);
    const d = process.cpuUsage(c0);
    cpu.push((d.user + d.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  return { wallMs, cpuMs: cpu[cpu.length >> 1] };
}

/**
 * The real transport over loopback, client and server in this process: a round of two small
 * frames, and a round of a full gradient answered by a small ack. Their CPU time less the codec's
 * is the transport's CPU (four sides of two messages), split evenly between sender and receiver;
 * the wall time not spent on CPU is the wire (latency from the small round, throughput from the
 * extra time of the big one, 10 GB/s when there is none to measure).
 */
async function measureTransport(P: number, encode: LinearCost, decode: LinearCost): Promise<{ transport: LinearCost; wire: { latencyMs: number; bandwidthMBps: number } }> {
  const token = 'calibration';
  const grads = new Float32Array(P).fill(1e-3);
  const server = await createServer({
    token,
    jobId: 'calibration',
    role: 'ps',
    host: '127.0.0.1',
    port: 0,
    validateOptions: { paramCount: P },
    log: silentLogger,
    onConnection: (connection) => {
      connection.on('message', (msg) => {
        if (msg.type === 'push') void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
        else if (msg.type === 'status') void connection.reply(msg, { type: 'statusReport', role: 'ps', step: 0, version: 0, detail: {} });
      });
    },
  });
  const client = await connect(server.url, { token, jobId: 'calibration', role: 'worker', validateOptions: { paramCount: P }, log: silentLogger });
  try {
    const small = await rounds(() => client.request({ type: 'status' }), 200);
    const big = await rounds(() => client.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 }), 60);
    const bytes = 4 * P;
    const codecSmall = encode.fixedMs + decode.fixedMs;
    const fixedMs = Math.max(0, (small.cpuMs - 2 * codecSmall) / 4);
    const perBig = big.cpuMs - 2 * codecSmall - ((encode.msPerMB + decode.msPerMB) * bytes) / 1e6 - 4 * fixedMs;
    const transport: LinearCost = { fixedMs, msPerMB: Math.max(0, (perBig / 2) * (1e6 / bytes)) };
    const idleSmall = Math.max(0, small.wallMs - small.cpuMs);
    const idleBig = Math.max(0, big.wallMs - big.cpuMs);
    const latencyMs = Math.max(0.005, idleSmall / 2);
    const wireMs = idleBig - idleSmall;
    const bandwidthMBps = wireMs > bytes / 1e10 ? Math.min(10_000, bytes / 1e3 / wireMs) : 10_000;
    return { transport, wire: { latencyMs, bandwidthMBps } };
  } finally {
    client.close();
    await server.close();
  }
}
