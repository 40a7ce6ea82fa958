import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { modelOf, PreviousPoint, WalWriter } from '@dptrain/cluster';
import { gather, type Dataset } from '@dptrain/data';
import { planOf, planSizes, type JobDescription } from '@dptrain/job';
import { globalNorm, GradientSum } from '@dptrain/optim';
import { concatParts, createDecoder, encodeMessage, type Message } from '@dptrain/protocol';
import { trainingSplits, UpdateRule } from '@dptrain/training';
import { upperMedian as median, type Calibration, type ComputeRun, type LinearCost, type PortCost, type SchedulerCost } from './calibration.js';
import { medianPortCost } from './calibration-median.js';
import { cpuSince, processCpu } from './main-thread-cpu.js';
import { measurePort } from './port-cost.js';
import { probeScheduler } from './scheduler-probe.js';
import { measureTransport } from './transport-cost.js';

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
  const before = processCpu();
  fn();
  return cpuSince(before);
}

/**
 * How long the calibration pauses after each timed computation: the helper threads finish the
 * work it left them (a few tenths of a millisecond a micro-batch here, most of it within 1 ms).
 */
const HELPER_TAIL_MS = 5;

/**
 * threadCpuMs of a computation, and its helper threads' CPU over a pause after it (`after`): the
 * work it leaves them (V8's collector, freeing its garbage) runs once the main thread yields, as a
 * worker's does while it waits for a reply. Timed back to back, that tail would land in the next
 * computation's figure instead.
 */
async function computeCpuMs(fn: () => unknown): Promise<{ main: number; helpers: number; after: number }> {
  const during = threadCpuMs(fn);
  const before = processCpu();
  await sleep(HELPER_TAIL_MS);
  return { ...during, after: cpuSince(before).helpers };
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
  /** Moves this process onto one CPU at a time, to time the compute on each core (computeMsByCore); without it, the compute runs wherever the kernel puts it. */
  readonly pinning?: SelfPinning;
}

/**
 * This process's CPU affinity, every thread of it: `pin` puts it on the `cpus[core]`, `release`
 * gives it back all it had. The real runs' `--pin-cpus` gives process i the CPU `cpus[i mod n]`.
 */
export interface SelfPinning {
  readonly cpus: readonly number[];
  pin(core: number): void;
  release(): void;
}

/**
 * Micro-batches timed on one core before the calibration moves on to the next, and how many it
 * computes untimed after each move: the first after a move runs on cold caches, which a pinned
 * process never does.
 */
const CORE_BLOCK = 10;
const AFTER_MOVE = 2;

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
    let next = 0;
    const computeOne = () => {
      const mb = microBatchAt(plan, next++);
      return computeCpuMs(() => model.computeGradients(params, gather(train, mb.indices, buffers), grad));
    };
    for (let i = 0; i < COMPUTE_WARMUP; i++) await computeOne();
    const runs = computeRunTimer(model, params, train, plan, config.microBatchSize);
    await runs.warm(10);
    const pinning = options.pinning && options.pinning.cpus.length > 1 ? options.pinning : undefined;
    const cores = pinning?.cpus.length ?? 1;
    // Whole rounds of the cores when pinning, so that each core has as many samples.
    const total = pinning ? Math.ceil(samples / (CORE_BLOCK * cores)) * CORE_BLOCK * cores : samples;
    const computeMs: number[] = [];
    const byCore: number[][] = Array.from({ length: cores }, () => []);
    let helperMs = 0;
    let helperAfterMs = 0;
    try {
      for (let i = 0; i < total; i++) {
        // The cores in turn, a block each, so that a slow stretch of the machine falls on all of them.
        const core = Math.floor(i / CORE_BLOCK) % cores;
        if (pinning && i % CORE_BLOCK === 0) {
          pinning.pin(core);
          for (let k = 0; k < AFTER_MOVE; k++) await computeOne();
          // The runs' working set (a gradient per micro-batch) is cold on the new core too: the first
          // turn after a move took 9.0 and 10.0 ms for a run of 4 where the next took 8.1 and 8.2.
          await runs.warm(1);
        }
        const { main, helpers, after } = await computeOne();
        computeMs.push(main);
        byCore[core]!.push(main);
        helperMs += helpers;
        helperAfterMs += after;
        if (i % RUN_EVERY === RUN_EVERY - 1) await runs.turn();
      }
    } finally {
      pinning?.release();
    }
    // How one CPU is shared, where processes can be pinned to one (the validation's runs are).
    let scheduler: SchedulerCost | undefined;
    if (pinning) {
      pinning.pin(0);
      try {
        scheduler = await probeScheduler();
      } finally {
        pinning.release();
      }
    }

    const computeRuns = await runs.result();

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
    const ports: PortCost[] = [];
    for (let i = 0; i < 5; i++) {
      const port = await measurePort(P, encode, decodeCost);
      if (port) ports.push(port);
    }
    const port = medianPortCost(ports);
    return {
      source: `measured on ${hostname()} at ${new Date().toISOString()}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, backend ${options.backend}`,
      model: { name: config.model, paramCount: P, microBatchSize: config.microBatchSize, backend: options.backend },
      computeMs,
      ...(pinning ? { computeMsByCore: byCore.map((times) => median(times)) } : {}),
      computeHelperMs: helperMs / total,
      computeHelperAfterMs: helperAfterMs / total,
      computeRuns,
      encode,
      decode: decodeCost,
      transport,
      receiveHelperMsPerMB,
      ...(port === undefined ? {} : { port }),
      ...(scheduler === undefined ? {} : { scheduler }),
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
 * A turn of the runs after every RUN_EVERY single micro-batches: the runs are timed among the
 * singles, on the same cores and in the same minute of the machine, because a virtual machine's
 * speed moves by a fifth from one minute to the next and the model takes a run's cost beside a
 * single's (a run timed a minute apart came out 1.7 to 2.2 times a single).
 */
const RUN_EVERY = 5;

/**
 * Runs of 2..max(LONGEST_RUN, micro-batches per step) micro-batches of the job's first steps
 * computed in one pass (Model.computeGradientsEach, as a sync worker computes its lease's leading
 * run): `warm` computes each length untimed `turns` times (each is new work for the kernels, and
 * for a core the process has just moved to), `turn` times one run of each length, and `result`
 * gives each length's median main-thread CPU and its helper threads' mean during the run and in a
 * pause after it (computeCpuMs).
 */
function computeRunTimer(
  model: ReturnType<typeof modelOf>,
  params: Float32Array,
  train: ReturnType<typeof trainingSplits>['train'],
  plan: ReturnType<typeof planOf>,
  microBatchSize: number,
): { warm(turns: number): Promise<void>; turn(): Promise<void>; result(): Promise<ComputeRun[]> } {
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
    return computeCpuMs(() => model.computeGradientsEach(params, batches, grads.slice(0, count)));
  };
  const main = counts.map(() => [] as number[]);
  const helpers = counts.map(() => 0);
  const after = counts.map(() => 0);
  const turn = async () => {
    for (const [c, count] of counts.entries()) {
      const t = await runOf(count);
      main[c]!.push(t.main);
      helpers[c]! += t.helpers;
      after[c]! += t.after;
    }
  };
  return {
    async warm(turns) {
      for (let i = 0; i < turns; i++) for (const count of counts) await runOf(count);
    },
    turn,
    async result() {
      // Fewer singles than RUN_EVERY (a short test calibration) still time each length once.
      if (main[0]!.length === 0) await turn();
      return counts.map((count, c) => ({ count, ms: median(main[c]!), helperMs: helpers[c]! / main[c]!.length, helperAfterMs: after[c]! / main[c]!.length }));
    },
  };
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
