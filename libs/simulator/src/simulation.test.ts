import { describe, expect, it } from 'vitest';
import { modelOf, shardRanges } from '@dptrain/cluster';
import type { JobDescription } from '@dptrain/job';
import type { Spans } from '@dptrain/log';
import { parseConfig } from '@dptrain/config';
import type { Calibration, PortCost } from './calibration.js';
import { simulate, type SimulationResult } from './simulation.js';
import { FRAME_OVERHEAD_BYTES } from './world.js';
import { testCalibration } from './testing/index.js';

// A 3-8-2 MLP on generated data: 12 steps of 4 micro-batches.
function job(overrides: Record<string, unknown> = {}): JobDescription {
  const config = parseConfig(
    { dataset: 'synthetic', model: 'mlp', hidden: [8], batchSize: 16, microBatchSize: 4, steps: 12, workers: 2, backupAfter: 0, ...overrides },
    'simulation test',
  );
  return { config, inputShape: [3], numClasses: 2, trainCount: 256 };
}

const paramCount = (() => {
  const model = modelOf(job());
  const n = model.paramCount;
  model.dispose();
  return n;
})();

const calibration = (overrides: Partial<Calibration> = {}): Calibration => testCalibration(paramCount, overrides);

const dedicated = { kind: 'dedicated', cores: 1 } as const;

type Span = { name: string; begin: number; end: number; args: Record<string, unknown> };

/** A `spans` option recording each process's spans with their virtual begin and end (NaN while open). */
function spanRecorder(): { recorded: Map<string, Span[]>; spans: (processName: string) => Spans } {
  const recorded = new Map<string, Span[]>();
  const spans = (processName: string): Spans => {
    const own: Span[] = [];
    recorded.set(processName, own);
    return {
      begin: (name, args) => {
        const span: Span = { name, begin: performance.now(), end: NaN, args: { ...args } };
        own.push(span);
        return () => void (span.end = performance.now());
      },
      instant: () => undefined,
    };
  };
  return { recorded, spans };
}

/** As `dptrain local --pin-cpus` pins two workers and a shard on two cores: a worker on each, the shard with worker-0. */
const PINNED_APART = new Map([
  ['worker-0', 0],
  ['worker-1', 1],
  ['ps-0', 0],
  ['coordinator', 1],
]);

describe('simulate', () => {
  it('drives the real coordinator and shards to the end of a tiny job', async () => {
    const result = await simulate({ job: job(), calibration: calibration(), placement: { kind: 'shared', cores: 2 } });
    expect(result.finished).toBe(true);
    expect(result.steps).toBe(12);
    expect(result.stepMs).toHaveLength(12);
    expect(result.extraMicroBatches).toBe(0);
    // Two workers share each step's 4 micro-batches of 10 ms: at least 20 ms a step, and less
    // than one worker's 40 ms (the coordinator may hand one worker a whole step now and then).
    expect(result.samplesPerSecond).toBeLessThanOrEqual((16 * 1000) / 20);
    expect(result.samplesPerSecond).toBeGreaterThan((16 * 1000) / 40);
    expect(result.timing.computeMs).toBeGreaterThan(10);
  });

  it('runs pinned processes on their cores only: two workers pinned to one core of two take turns', async () => {
    const shared = (pinned?: Map<string, number>) =>
      simulate({ job: job({ workers: 2 }), calibration: calibration(), placement: { kind: 'shared', cores: 2, ...(pinned ? { pinned } : {}) } });
    const spread = await shared(PINNED_APART);
    const crowded = await shared(
      new Map([
        ['worker-0', 0],
        ['worker-1', 0],
        ['ps-0', 0],
        ['coordinator', 0],
      ]),
    );
    // Each step's 4 micro-batches of 10 ms: on two cores at least 20 ms a step, on one at least 40.
    expect(spread.samplesPerSecond).toBeGreaterThan((16 * 1000) / 40);
    expect(crowded.samplesPerSecond).toBeLessThanOrEqual((16 * 1000) / 40);
    // Everything on core 0: the two workers' and the shard's work together fit in the elapsed time.
    expect(2 * crowded.workerBusy + crowded.shardBusy[0]!).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('runs a pinned worker at its core’s calibrated speed: the barrier waits for the one on the slower core', async () => {
    const run = (c: Calibration, pin = true) =>
      simulate({ job: job({ workers: 2 }), calibration: c, placement: { kind: 'shared', cores: 2, ...(pin ? { pinned: PINNED_APART } : {}) } });
    const alike = await run(calibration({ computeMs: [10], computeMsByCore: [10, 10] }));
    const slowCore1 = await run(calibration({ computeMs: [10], computeMsByCore: [10, 30] }));
    // Each worker computes 2 of a step's 4 micro-batches: under one worker's 40 ms a step on like
    // cores, at least 60 ms when core 1 takes 30 ms for each of its worker's two.
    expect(alike.samplesPerSecond).toBeGreaterThan((16 * 1000) / 40);
    expect(slowCore1.samplesPerSecond).toBeLessThanOrEqual((16 * 1000) / 60);
    // Unpinned, no worker has a core of its own: the calibration's median, as without the figures.
    const anyCore = await run(calibration({ computeMs: [10], computeMsByCore: [10, 30] }), false);
    const without = await run(calibration({ computeMs: [10] }), false);
    expect(anyCore.samplesPerSecond).toBe(without.samplesPerSecond);
  });

  it('counts the CPU per step of every process of the cluster, not the other load on the machine', async () => {
    const at = (computeMs: number, background = 0) =>
      simulate({ job: job({ workers: 2 }), calibration: calibration({ computeMs: [computeMs] }), placement: { kind: 'shared', cores: 2, background } });
    // One at a time: a simulation owns the clock while it runs.
    const fast = await at(10);
    const slow = await at(20);
    const loaded = await at(10, 1);
    // Each step's 4 micro-batches cost 10 ms more each; nothing else changes.
    expect(slow.cpuMsPerStep - fast.cpuMsPerStep).toBeCloseTo(40, 1);
    expect(fast.cpuMsPerStep).toBeGreaterThan(40);
    // All of it on the workers.
    expect(slow.cpuMsPerStepByRole.worker - fast.cpuMsPerStepByRole.worker).toBeCloseTo(40, 1);
    expect(slow.cpuMsPerStepByRole.ps).toBeCloseTo(fast.cpuMsPerStepByRole.ps, 3);
    const { worker, ps, coordinator } = fast.cpuMsPerStepByRole;
    expect(worker + ps + coordinator).toBeCloseTo(fast.cpuMsPerStep, 9);
    // Work still running when the last step closes is not counted, hence not exact.
    expect(loaded.cpuMsPerStep).toBeCloseTo(fast.cpuMsPerStep, 1);
  });

  it('halves throughput when compute doubles in the compute-bound regime', async () => {
    const fast = await simulate({ job: job(), calibration: calibration({ computeMs: [10] }), placement: dedicated });
    const slow = await simulate({ job: job(), calibration: calibration({ computeMs: [20] }), placement: dedicated });
    expect(fast.samplesPerSecond / slow.samplesPerSecond).toBeGreaterThan(1.8);
    expect(fast.samplesPerSecond / slow.samplesPerSecond).toBeLessThan(2.05);
  });

  it("computes a sync lease's leading run in one pass at the calibrated run's cost, and async micro-batches one by one", async () => {
    // One worker leases each step's 4 micro-batches: a run of 4, 40 ms as singles, 16 ms in one pass.
    const runs = calibration({ computeRuns: [2, 3, 4].map((count) => ({ count, ms: 4 * count, helperMs: 0 })) });
    const singles = await simulate({ job: job({ workers: 1 }), calibration: calibration(), placement: dedicated });
    const inOnePass = await simulate({ job: job({ workers: 1 }), calibration: runs, placement: dedicated });
    expect(inOnePass.timing.computeMs / singles.timing.computeMs).toBeCloseTo(16 / 40, 2);
    const asyncRuns = await simulate({ job: job({ workers: 1, mode: 'async' }), calibration: runs, placement: dedicated });
    expect(asyncRuns.timing.computeMs / singles.timing.computeMs).toBeCloseTo(1, 1);
    // maxGradNorm judges each micro-batch alone: the real worker computes them one by one.
    const clipped = await simulate({ job: job({ workers: 1, maxGradNorm: 1 }), calibration: runs, placement: dedicated });
    expect(clipped.timing.computeMs / singles.timing.computeMs).toBeCloseTo(1, 1);
  });

  it('computes the rest of a sync lease without micro-batch 0 in one pass too, each pushed alone', async () => {
    // Two workers split each step's 4 micro-batches: one holds 0..1 (a run summed), the other 2..3.
    const runs = calibration({ computeRuns: [2, 3, 4].map((count) => ({ count, ms: 4 * count, helperMs: 0 })) });
    const result = await simulate({ job: job({ workers: 2 }), calibration: runs, placement: dedicated });
    expect(result.finished).toBe(true);
    // A step waits for the slower lease: a run of 2 (8 ms), not two single micro-batches (20 ms).
    const sorted = [...result.stepMs].sort((a, b) => a - b);
    expect(sorted[sorted.length >> 1]).toBeGreaterThanOrEqual(8);
    expect(sorted[sorted.length >> 1]).toBeLessThan(10);
  });

  it('raises throughput with a second shard when the shard is the bottleneck', async () => {
    // Folding a push costs 5 ms on one shard (half that on each of two); computing costs 0.1 ms.
    const serverBound = calibration({ computeMs: [0.1], foldMsPerMFloat: (5 * 1e6) / paramCount });
    const one = await simulate({ job: job({ workers: 4, psShards: 1 }), calibration: serverBound, placement: dedicated });
    const two = await simulate({ job: job({ workers: 4, psShards: 2 }), calibration: serverBound, placement: dedicated });
    expect(one.shardBusy[0]).toBeGreaterThan(0.9);
    expect(two.samplesPerSecond / one.samplesPerSecond).toBeGreaterThan(1.6);
  });

  it('runs async mode, and more workers than cores slow each other on a shared host', async () => {
    const dedicatedAsync = await simulate({ job: job({ mode: 'async', workers: 4 }), calibration: calibration(), placement: dedicated });
    const sharedAsync = await simulate({ job: job({ mode: 'async', workers: 4 }), calibration: calibration(), placement: { kind: 'shared', cores: 2 } });
    expect(dedicatedAsync.finished && sharedAsync.finished).toBe(true);
    // Over the whole run: twelve async steps close in bursts, which leaves their median step time to chance.
    expect(dedicatedAsync.overallSamplesPerSecond / sharedAsync.overallSamplesPerSecond).toBeGreaterThan(1.5);
  });

  it('starts a received frame’s helper work once the frame is taken in: the push is acknowledged before the shard’s collector runs', async () => {
    // 5 ms of helper work per full gradient received, on one-core machines.
    const helperMs = 5;
    const run = (receiveHelperMsPerMB: number) =>
      simulate({ job: job({ workers: 1 }), calibration: calibration({ receiveHelperMsPerMB }), placement: dedicated });
    const [quiet, collecting] = [await run(0), await run(helperMs / ((4 * paramCount) / 1e6))];
    // The helpers cost CPU (a push and a pull reply a step, each with a full vector, at least)...
    expect(collecting.cpuMsPerStep - quiet.cpuMsPerStep).toBeGreaterThan(helperMs);
    // ...but the shard takes in each push and answers it before they run, rather than a slice (0.75 ms on one core) behind them.
    expect(collecting.timing.pushMs - quiet.timing.pushMs).toBeLessThan(0.1);
  });

  it('runs the helper work a computation leaves behind once it is over: beside the worker’s wait for the update, not within its compute', async () => {
    // One-core machines; a 5 ms update on the shard's; 4 ms of helper work per micro-batch, during or after its compute.
    const update = { applyMsPerMFloat: 5 / (paramCount / 1e6) };
    const run = (helpers: Partial<Calibration>) =>
      simulate({ job: job({ workers: 1 }), calibration: calibration({ ...update, ...helpers }), placement: dedicated });
    const [during, after] = [await run({ computeHelperMs: 4 }), await run({ computeHelperAfterMs: 4 })];
    expect(after.cpuMsPerStep).toBeCloseTo(during.cpuMsPerStep, 6);
    // The last micro-batch's helpers leave the compute phase (an earlier one's share the core with
    // the next compute either way) and run while the shard updates, less the slices in which the
    // worker's own replies wait for them.
    expect(during.timing.computeMs - after.timing.computeMs).toBeCloseTo(4, 6);
    const stepMs = (r: SimulationResult) => r.virtualMs / r.steps;
    expect(stepMs(during) - stepMs(after)).toBeGreaterThan(0.5);
  });

  it('records each process’s spans on the virtual clock, as a real run’s trace: leases holding their pull, compute and push, and the coordinator’s steps', async () => {
    const { recorded, spans } = spanRecorder();
    const result = await simulate({ job: job({ workers: 2 }), calibration: calibration(), placement: { kind: 'shared', cores: 2 }, spans });
    expect([...recorded.keys()].sort()).toEqual(['coordinator', 'worker-0', 'worker-1']);
    expect(recorded.get('coordinator')!.filter((s) => s.name === 'step')).toHaveLength(12);
    let computed = 0;
    for (const worker of ['worker-0', 'worker-1']) {
      const own = recorded.get(worker)!;
      for (const s of own) {
        // Every span ended.
        expect(Number.isFinite(s.end)).toBe(true);
        expect(s.end).toBeGreaterThanOrEqual(s.begin);
        expect(s.end).toBeLessThanOrEqual(result.virtualMs);
      }
      for (const lease of own.filter((s) => s.name === 'lease')) {
        const inside = own.filter((s) => s.name !== 'lease' && s.args.step === lease.args.step && s.begin >= lease.begin && s.end <= lease.end);
        expect(new Set(inside.map((s) => s.name))).toEqual(new Set(['pull', 'compute', 'push']));
      }
      computed += own.filter((s) => s.name === 'compute').reduce((a, s) => a + s.end - s.begin, 0);
    }
    // Each micro-batch is 10 ms of compute in the test calibration: 12 steps of 4.
    expect(computed).toBeGreaterThanOrEqual(12 * 4 * 10 - 1e-6);
  });

  it('ends the spans of workers stopped with the job, as a stopped worker’s end', async () => {
    const { recorded, spans } = spanRecorder();
    // Stopped by the limit in the middle of the first steps' 10 ms micro-batches.
    const result = await simulate({ job: job({ workers: 2 }), calibration: calibration(), placement: { kind: 'shared', cores: 2 }, spans, limitMs: 25 });
    expect(result.finished).toBe(false);
    const workerSpans = [...recorded].filter(([name]) => name.startsWith('worker-')).flatMap(([, own]) => own);
    expect(workerSpans.some((s) => s.name === 'compute')).toBe(true);
    for (const s of workerSpans) expect(Number.isFinite(s.end)).toBe(true);
  });

  it('keeps each core’s busy time at every step’s close on a shared host: what the cores did adds up to the cluster’s CPU', async () => {
    const result = await simulate({
      job: job({ workers: 2, steps: 16 }),
      calibration: calibration(),
      placement: { kind: 'shared', cores: 2, pinned: PINNED_APART },
    });
    const at = result.coresAtStep!;
    expect(at).toHaveLength(16);
    const [first, last] = [at[3]!, at[15]!];
    const busyPerStep = first.busyMs.map((busy, core) => (last.busyMs[core]! - busy) / 12);
    const periodMs = (last.atMs - first.atMs) / 12;
    for (const busy of busyPerStep) expect(busy).toBeLessThanOrEqual(periodMs + 1e-9);
    // Core 0 holds a worker and the shard, core 1 a worker and the coordinator: the first is the busier.
    expect(busyPerStep[0]).toBeGreaterThan(busyPerStep[1]!);
    const total = busyPerStep[0]! + busyPerStep[1]!;
    expect(Math.abs(total - result.cpuMsPerStep)).toBeLessThan(0.1 * result.cpuMsPerStep);
    const dedicatedRun = await simulate({ job: job({ steps: 4 }), calibration: calibration(), placement: dedicated });
    expect(dedicatedRun.coresAtStep).toBeNull();
  });

  it('refuses a calibration made for another model', async () => {
    await expect(
      simulate({ job: job(), calibration: calibration({ model: { name: 'mlp', paramCount: 7, microBatchSize: 4, backend: 'none' } }), placement: dedicated }),
    ).rejects.toThrow(/calibrate with the job's model/);
  });
});

/** Tensor bytes of a traffic count: every frame's bytes less its header. */
const tensorBytesOf = (traffic: SimulationResult['network']): number => traffic.bytes - traffic.frames * FRAME_OVERHEAD_BYTES;

/** `workers` workers, each with one micro-batch a step; co-located jobs have a shard per worker. */
function perWorker(workers: number): JobDescription {
  return job({ workers, psShards: workers, batchSize: 4 * workers });
}

describe('simulate, co-located layout (a shard in each worker)', () => {
  it('keeps one worker’s traffic with its own shard off the network, where the separate layout carries it', async () => {
    const separate = await simulate({ job: perWorker(1), calibration: calibration(), placement: dedicated });
    const colocated = await simulate({ job: perWorker(1), calibration: calibration(), placement: dedicated, layout: 'colocated' });
    expect(colocated.finished && separate.finished).toBe(true);
    // Only the coordinator's messages, which carry no tensors, cross the network.
    expect(colocated.network.frames).toBeGreaterThan(0);
    expect(tensorBytesOf(colocated.network)).toBe(0);
    expect(tensorBytesOf(colocated.inProcess)).toBeGreaterThan(0);
    expect(tensorBytesOf(separate.network)).toBeGreaterThan(0);
    expect(separate.inProcess).toEqual({ frames: 0, bytes: 0 });
  });

  it('charges the shard’s work to the process /proc shows it in: the shard process, or the worker whose thread serves the shard', async () => {
    // The optimizer step over the whole vector made 5 ms dearer: one apply a step.
    const dearer = 5 / (paramCount / 1e6);
    const run = async (layout: 'separate' | 'colocated', applyMsPerMFloat: number) =>
      (await simulate({ job: perWorker(1), calibration: calibration({ applyMsPerMFloat }), placement: dedicated, layout })).cpuMsPerStepByRole;
    const separate = [await run('separate', 0.1), await run('separate', 0.1 + dearer)] as const;
    const colocated = [await run('colocated', 0.1), await run('colocated', 0.1 + dearer)] as const;
    expect(separate[1].ps - separate[0].ps).toBeCloseTo(5, 1);
    expect(separate[1].worker - separate[0].worker).toBeCloseTo(0, 1);
    expect(colocated[1].worker - colocated[0].worker).toBeCloseTo(5, 1);
    expect(colocated[0].ps + colocated[1].ps).toBe(0);
    for (const r of [...separate, ...colocated]) expect(r.coordinator).toBeGreaterThan(0);
  });

  it('puts (N−1)/N of each push and pull on the network with N workers, where the separate layout puts all of it', async () => {
    for (const n of [2, 5]) {
      // Equal slices, so the worker's own slice is 1/N of every exchange.
      expect(shardRanges(paramCount, n).every((r) => r.length === paramCount / n)).toBe(true);
      const colocated = await simulate({ job: perWorker(n), calibration: calibration(), placement: dedicated, layout: 'colocated' });
      const separate = await simulate({ job: perWorker(n), calibration: calibration(), placement: dedicated });
      const remote = tensorBytesOf(colocated.network);
      expect(remote / (remote + tensorBytesOf(colocated.inProcess))).toBeCloseTo((n - 1) / n, 12);
      expect(tensorBytesOf(separate.network)).toBeGreaterThan(0);
      expect(separate.inProcess.frames).toBe(0);
    }
  });

  it('runs the shard’s thread on its worker’s machine, where one core makes it take time slices from the compute', async () => {
    // Two async workers: a push folds (3 ms per vector) while its shard's worker computes its next micro-batch.
    const folding = calibration({ foldMsPerMFloat: (3 * 1e6) / paramCount });
    const run = (layout: 'separate' | 'colocated', cores: number) =>
      simulate({ job: job({ workers: 2, psShards: 2, mode: 'async' }), calibration: folding, placement: { kind: 'dedicated', cores }, layout });
    // A separate shard has a machine of its own: its worker's cores do not matter.
    expect((await run('separate', 1)).stepMs).toEqual((await run('separate', 2)).stepMs);
    const [oneCore, twoCores] = [await run('colocated', 1), await run('colocated', 2)];
    expect(oneCore.shardBusy.every((b) => b > 0)).toBe(true);
    expect(oneCore.timing.computeMs).toBeGreaterThan(twoCores.timing.computeMs);
    expect(oneCore.virtualMs).toBeGreaterThan(twoCores.virtualMs);
  });

  it('charges the frames between the worker and its shard’s thread the codec but not the transport', async () => {
    const run = (layout: 'separate' | 'colocated', overrides: Partial<Calibration> = {}) =>
      simulate({ job: perWorker(1), calibration: calibration(overrides), placement: dedicated, layout });
    // Per megabyte only: the coordinator's frames carry no tensors, so only the worker–shard frames could pay it.
    const dearTransport = { transport: { fixedMs: 0.001, msPerMB: 1e4 } };
    const dearEncode = { encode: { fixedMs: 0.001, msPerMB: 1e4 } };
    const colocated = await run('colocated');
    expect((await run('colocated', dearTransport)).stepMs).toEqual(colocated.stepMs);
    expect((await run('colocated', dearEncode)).virtualMs).toBeGreaterThan(colocated.virtualMs);
    expect((await run('separate', dearTransport)).virtualMs).toBeGreaterThan((await run('separate')).virtualMs);
  });

  it('charges the frames between the worker and its shard’s thread the port’s calibrated cost: CPU on both threads, and the hand-over’s time', async () => {
    const run = (port?: PortCost) => simulate({ job: perWorker(1), calibration: calibration(port ? { port } : {}), placement: dedicated, layout: 'colocated' });
    const free: PortCost = { fixedMs: 0, msPerMB: 0, latencyMs: 0, receiveHelperMsPerMB: 0 };
    const base = await run(free);
    expect((await run()).cpuMsPerStepByRole).toEqual(base.cpuMsPerStepByRole);
    // 2 ms a megabyte on each side: every tensor byte across the port costs the worker's process twice (its thread and the shard's).
    const dear = await run({ ...free, msPerMB: 2 });
    const portMBPerStep = tensorBytesOf(base.inProcess) / 1e6 / base.steps;
    expect(portMBPerStep).toBeGreaterThan(0);
    expect(dear.cpuMsPerStepByRole.worker - base.cpuMsPerStepByRole.worker).toBeCloseTo(2 * 2 * portMBPerStep, 6);
    expect(dear.cpuMsPerStepByRole.coordinator).toBeCloseTo(base.cpuMsPerStepByRole.coordinator, 9);
    // The hand-over's latency is time, not CPU: each step waits for its push to cross and its parameters to come back.
    const late = await run({ ...free, latencyMs: 5 });
    // (A later prefetched pull may find a version more or less to encode: hundredths of a millisecond.)
    expect(late.cpuMsPerStepByRole.worker).toBeCloseTo(base.cpuMsPerStepByRole.worker, 2);
    expect(late.virtualMs - base.virtualMs).toBeGreaterThanOrEqual(2 * 5 * (base.steps - 1));
  });

  it('refuses a co-located job without a shard per worker, naming the fix', async () => {
    await expect(simulate({ job: job({ workers: 2, psShards: 1 }), calibration: calibration(), placement: dedicated, layout: 'colocated' })).rejects.toThrow(
      /psShards = workers.*help: set psShards to the worker count/,
    );
  });
});
