import { Coordinator, modelOf, shardRanges, type ClusterResult } from '@dptrain/cluster';
import type { JobDescription } from '@dptrain/job';
import { noSpans, type Spans } from '@dptrain/log';
import { createMemoryPair } from '@dptrain/protocol';
import { deriveSeed } from '@dptrain/random';
import { CalibrationError, coreComputeFactor, type Calibration } from './calibration.js';
import { EventQueue } from './event-queue.js';
import { Network, type Traffic, type WireModel } from './network.js';
import { SimShard } from './sim-shard.js';
import { SimWorker, type Stragglers } from './sim-worker.js';
import { installVirtualTime, runUntil, SimulationLimitError } from './virtual-time.js';
import { nodeFactory, threadOf, type Layout, type Node, type Placement, type World } from './world.js';

export interface SimulationOptions {
  /** The job as the real coordinator would get it (workers, psShards, mode, staleness, steps, backupAfter …). */
  readonly job: JobDescription;
  readonly calibration: Calibration;
  readonly placement: Placement;
  /**
   * Where the shards run. `colocated`: shard k in a thread of worker k's process, on its machine
   * (its cores and its link; the job must have psShards = workers), the worker reaching it within
   * the process. @default 'separate'
   */
  readonly layout?: Layout;
  /** The wire; @default the calibration's (loopback) */
  readonly wire?: WireModel;
  readonly stragglers?: Stragglers;
  /** The gradient every modelled worker pushes (values do not matter; shared to save memory). @default 1e-3 everywhere */
  readonly grads?: Float32Array;
  /** @default 1 */
  readonly seed?: number;
  /** Virtual milliseconds after which a job that has not finished is declared stuck. @default 3_600_000 */
  readonly limitMs?: number;
  /**
   * Where each process's spans go, by its name (coordinator, worker-k), timed on the virtual clock
   * (performance.now() during the simulation): the coordinator's step spans and instants, each
   * worker's lease, pull, compute and push, as `dptrain local --trace` records a real run's.
   * @default none
   */
  readonly spans?: (processName: string) => Spans;
}

export interface SimulationResult {
  /**
   * The coordinator's own steady-state estimate, taken on the virtual clock; when the job did not
   * finish within the limit or that estimate is not finite, overallSamplesPerSecond.
   */
  readonly samplesPerSecond: number;
  /**
   * The samples of the steps after the first 10% over the virtual time they took (every step over
   * the whole run when those closed in one burst): the rate to compare async runs by, whose steps
   * can close in bursts that the median-of-rounds estimate misreads.
   */
  readonly overallSamplesPerSecond: number;
  /** False when the job hit `limitMs` before its last step (e.g. async with most pushes stale). */
  readonly finished: boolean;
  /** Steps closed. */
  readonly steps: number;
  /** Virtual milliseconds from the first registration to the end. */
  readonly virtualMs: number;
  /** Wall milliseconds the simulation took on this machine. */
  readonly wallMs: number;
  /** Virtual milliseconds of each step, from the close of the step before. */
  readonly stepMs: number[];
  /**
   * At each step's close: the virtual time and how long each core of the shared host had been
   * busy (the background's work included, as /proc/stat counts a CPU), to read each core's idle
   * time per step off any stretch of steps as from a real run's /proc/stat. Null when every process
   * has its own machine (a dedicated placement).
   */
  readonly coresAtStep: readonly { readonly atMs: number; readonly busyMs: readonly number[] }[] | null;
  /** The average worker's time split per step, as the coordinator reports it. */
  readonly timing: ClusterResult['timing'];
  /** Share of the virtual time each shard's process (co-located: its thread) was busy. */
  readonly shardBusy: number[];
  /** Share of the virtual time the average worker's process (co-located: its main thread) was busy. */
  readonly workerBusy: number;
  /** CPU milliseconds per closed step of every process of the cluster, helper threads included (what /proc would show of a real run). */
  readonly cpuMsPerStep: number;
  /**
   * cpuMsPerStep by the process it is charged to, as /proc shows a real run's: the workers (with
   * their co-located shards' threads), the shard processes, the coordinator.
   */
  readonly cpuMsPerStepByRole: { readonly worker: number; readonly ps: number; readonly coordinator: number };
  /** Frames and bytes (tensors and FRAME_OVERHEAD_BYTES of header each) the network carried between machines. */
  readonly network: Traffic;
  /** Frames and bytes that stayed in a process instead: a co-located worker's traffic with its own shard's thread. */
  readonly inProcess: Traffic;
  /** Micro-batches computed beyond the ones the steps needed (backup copies, stale in async). */
  readonly extraMicroBatches: number;
  readonly staleReleased: number;
  readonly shards: ClusterResult['shards'];
}

/**
 * Runs one job in virtual time: the real Coordinator and one real ParameterServer per shard, fed
 * by modelled workers over in-memory connections (the real codec and validator), with every
 * message's encoding, transfer and decoding, every computation and every shard's fold and apply
 * costing virtual time on modelled CPUs and links. Returns once the coordinator reports the job
 * done. In the co-located layout shard k runs in a thread of worker k, as `dptrain worker
 * --shard k` runs it: on the worker's cores, sharing its link, reached over a MessagePort.
 * Installs the virtual clock for the duration: one simulation at a time per process.
 */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const realNow = performance.now.bind(performance);
  const started = realNow();
  const queue = new EventQueue();
  const uninstall = installVirtualTime(queue);
  try {
    return { ...(await runJob(queue, options)), wallMs: realNow() - started };
  } finally {
    uninstall();
  }
}

async function runJob(queue: EventQueue, options: SimulationOptions): Promise<Omit<SimulationResult, 'wallMs'>> {
  const { job, calibration } = options;
  const config = job.config;
  const seed = options.seed ?? 1;
  const colocated = (options.layout ?? 'separate') === 'colocated';
  if (colocated && config.psShards !== config.workers) {
    throw new RangeError(
      `the co-located layout serves shard k in worker k, so the job needs psShards = workers, not ${config.psShards} shard(s) for ${config.workers} worker(s); help: set psShards to the worker count, as dptrain local --colocate does`,
    );
  }
  const nodeOf = nodeFactory(queue, options.placement, calibration.scheduler);
  const world: World = {
    queue,
    network: new Network(queue, options.wire ?? calibration.wire),
    calibration,
    coordinator: nodeOf('coordinator'),
    inProcess: { frames: 0, bytes: 0 },
  };
  // Made on first use: the co-located shards' threads need their workers' nodes; the separate
  // layout makes its shards' nodes first, as it always has.
  const workerNodes: Node[] = [];
  const workerNode = (k: number): Node => (workerNodes[k] ??= nodeOf(`worker-${k}`));
  const model = modelOf(job);
  const paramCount = model.paramCount;
  model.dispose();
  if (calibration.model.paramCount !== paramCount) {
    throw new CalibrationError(
      `the calibration is for a ${calibration.model.name} of ${calibration.model.paramCount} parameters, this job's model has ${paramCount}; help: calibrate with the job's model flags (dptrain experiment simulate --calibrate …)`,
    );
  }
  const ranges = shardRanges(paramCount, config.psShards);
  const stepClosedAt: number[] = [];
  const host = options.placement.kind === 'shared' ? world.coordinator.process.host : undefined;
  const coresAtStep: { atMs: number; busyMs: number[] }[] = [];
  const coordinator = new Coordinator({
    job,
    paramCount,
    // Evaluation is outside the timed steps: the real runs' steady estimate takes it out too.
    evaluate: () => ({ loss: 0, accuracy: 0 }),
    onStep: () => {
      stepClosedAt.push(queue.now);
      if (host) coresAtStep.push({ atMs: queue.now, busyMs: host.busyMs() });
      // The real coordinator's work per closed step (metrics record, progress, spans), after it has leased the next step.
      const step = calibration.coordinatorStep;
      if (step) {
        world.coordinator.process.run(step.mainMs, () => undefined);
        world.coordinator.process.helpers(step.helperMs);
      }
    },
    workerTimeoutMs: 1e12,
    leaseTimeoutMs: 1e12,
    spans: options.spans?.('coordinator') ?? noSpans,
  });
  const shards = ranges.map((_, s) => {
    const pair = createMemoryPair({ a: { role: 'ps', validateOptions: { paramCount } }, b: { role: 'coordinator', validateOptions: { paramCount } } });
    coordinator.attach(pair.b);
    const shard = new SimShard(world, colocated ? threadOf(workerNode(s), `ps-${s}`) : nodeOf(`ps-${s}`), job, s, pair.a);
    void pair.a
      .request({ type: 'register', name: `ps-${s}`, pid: 0, backend: 'none', shard: s })
      .then(() => pair.a.send({ type: 'shardReady', shard: s, url: `memory://ps-${s}` }));
    return shard;
  });
  const grads = options.grads ?? new Float32Array(paramCount).fill(1e-3);
  if (grads.length !== paramCount)
    throw new RangeError(`options.grads has ${grads.length} floats, the model has ${paramCount}; pass one of the model's length or none`);
  const workers = Array.from({ length: config.workers }, (_, k) => {
    const node = workerNode(k);
    const toCoordinator = createMemoryPair({
      a: { role: 'worker', validateOptions: { paramCount } },
      b: { role: 'coordinator', validateOptions: { paramCount } },
    });
    coordinator.attach(toCoordinator.b);
    const links = shards.map((shard, s) => {
      const pair = createMemoryPair({
        a: { role: 'worker', validateOptions: { paramCount } },
        b: { role: 'ps', validateOptions: shard.ps.validateOptions(paramCount) },
      });
      shard.serve(pair.b, node);
      return { connection: pair.a, node: shard.node, range: ranges[s] };
    });
    return new SimWorker(
      world,
      node,
      `worker-${k}`,
      { coordinator: toCoordinator.a, shards: links },
      {
        async: config.mode === 'async',
        // As worker.ts decides it: maxGradNorm judges each micro-batch alone, so nothing is computed as a run.
        presum: config.mode !== 'async' && config.maxGradNorm === undefined,
        grads,
        computeScale: (config.microBatchSize / calibration.model.microBatchSize) * coreComputeFactor(calibration, node.process.core),
        stragglers: options.stragglers,
        seed: deriveSeed(seed, 0x5157, k),
        spans: options.spans?.(`worker-${k}`) ?? noSpans,
      },
    );
  });
  const running = workers.map((w) => w.run());
  const failed = Promise.race(running.map((r) => r.then(() => new Promise<never>(() => undefined))));
  const describe = () => `coordinator ${JSON.stringify({ state: coordinator.jobState, step: coordinator.status().step })}`;
  let result: ClusterResult | undefined;
  try {
    result = await runUntil(queue, Promise.race([coordinator.done, failed]), options.limitMs ?? 3_600_000, describe);
  } catch (error) {
    if (!(error instanceof SimulationLimitError)) throw error;
    coordinator.stop();
  }
  for (const w of workers) w.stop();
  const end = queue.now;
  const steps = result?.steps ?? stepClosedAt.length;
  const computed = workers.reduce((a, w) => a + w.microBatches, 0);
  const needed = steps * (config.batchSize / config.microBatchSize);
  // The steps after the first 10% over their time (start-up excluded, as the steady estimate
  // does), or every step over the whole run when those closed in one burst.
  const warm = Math.max(1, Math.floor(steps / 10));
  const windowMs = steps > warm ? stepClosedAt[steps - 1] - stepClosedAt[warm - 1] : 0;
  const overallRate =
    windowMs > 0 ? ((steps - warm) * config.batchSize * 1000) / windowMs : steps > 0 ? (steps * config.batchSize * 1000) / stepClosedAt[steps - 1] : 0;
  const status = coordinator.status();
  const perStep = (nodes: readonly Node[]) => (steps > 0 ? nodes.reduce((a, n) => a + n.process.workDone, 0) / steps : 0);
  const shardNodes = shards.map((s) => s.node);
  const byRole = {
    worker: perStep([...workers.map((w) => w.node), ...(colocated ? shardNodes : [])]),
    ps: colocated ? 0 : perStep(shardNodes),
    coordinator: perStep([world.coordinator]),
  };
  return {
    // Async steps can close in bursts (a step waits for a re-leased stale micro-batch, then the
    // ones behind it close at once), which leaves rounds of zero time and the median infinite.
    samplesPerSecond: result && Number.isFinite(result.steadySamplesPerSecond) ? result.steadySamplesPerSecond : overallRate,
    overallSamplesPerSecond: overallRate,
    finished: result !== undefined,
    steps,
    virtualMs: end,
    stepMs: stepClosedAt.map((t, i) => t - (i === 0 ? 0 : stepClosedAt[i - 1])),
    coresAtStep: host ? coresAtStep : null,
    timing: result?.timing ?? (status.timingPerStepMs as unknown as ClusterResult['timing']),
    shardBusy: shards.map((s) => s.node.process.workDone / end),
    workerBusy: workers.reduce((a, w) => a + w.node.process.workDone, 0) / workers.length / end,
    cpuMsPerStep: byRole.worker + byRole.ps + byRole.coordinator,
    cpuMsPerStepByRole: byRole,
    network: { ...world.network.carried },
    inProcess: { ...world.inProcess },
    extraMicroBatches: computed - needed,
    staleReleased: result?.staleReleased ?? Number(status.staleReleased),
    shards: result?.shards ?? [],
  };
}
