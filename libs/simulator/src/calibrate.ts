import { cpus, hostname, loadavg } from 'node:os';
import { modelOf, planSizes, type JobDescription } from '@dptrain/cluster';
import { createDataPlan, gather, type Dataset } from '@dptrain/data';
import { accumulate } from '@dptrain/optim';
import { concatParts, connect, createDecoder, createServer, encodeMessage, silentLogger, type Message } from '@dptrain/protocol';
import { trainingSplits, UpdateRule } from '@dptrain/training';
import type { Calibration, LinearCost } from './calibration.js';

/** Median wall milliseconds of `fn` over `runs` runs, after `warm` untimed ones. */
async function medianMs(fn: () => unknown, runs: number, warm = Math.max(3, runs >> 2)): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
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
 * WebSocket's latency and throughput (a real protocol server and client: a round trip of small
 * frames, and of a full gradient answered by a small ack, less the codec costs measured alone).
 * Each number is a median of repeated runs; the coordinator's per-message cost is taken as a
 * small frame's encode plus decode (its book-keeping per message is a few map look-ups).
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
    const microBatches = Array.from({ length: samples + 10 }, (_, i) => plan.step(Math.floor(i / plan.microBatchesPerStep)).microBatches[i % plan.microBatchesPerStep]);
    const computeMs: number[] = [];
    microBatches.forEach((mb, i) => {
      const t0 = performance.now();
      model.computeGradients(params, gather(train, mb.indices, buffers), grad);
      if (i >= 10) computeMs.push(performance.now() - t0);
    });

    // Codec: a push with the whole gradient, and a pushAck.
    const grads = new Float32Array(P).fill(1e-3);
    const push = { type: 'push', seq: 1, step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: config.microBatchSize } as unknown as Message;
    const ack = { type: 'pushAck', seq: 2, re: 1, step: 0, microBatchId: 0, status: 'accepted' } as unknown as Message;
    const decode = createDecoder({ paramCount: P, slice: { offset: 0, length: P } });
    const pushFrame = concatParts(encodeMessage(push));
    const ackFrame = concatParts(encodeMessage(ack));
    const encode: LinearCost = linear(await medianMs(() => concatParts(encodeMessage(ack)), 200), await medianMs(() => concatParts(encodeMessage(push)), 40), 4 * P);
    const decodeCost: LinearCost = linear(await medianMs(() => decode(ackFrame), 200), await medianMs(() => decode(pushFrame), 40), 4 * P);

    // Shard: fold and optimizer step over the whole vector.
    const plan2 = planSizes(job);
    const rule = new UpdateRule(config, P, plan2.totalSteps, plan2.stepsPerEpoch);
    rule.optimizer.buffers.params.set(params);
    const acc = rule.optimizer.buffers.grads;
    const foldMs = await medianMs(() => accumulate(acc, grads), 40);
    const applyMs = await medianMs(() => {
      acc.set(grads);
      rule.apply(rule.optimizer.buffers.params, acc);
    }, 40);
    const copyMs = await medianMs(() => acc.set(grads), 40);

    const wire = await measureWire(P, encode, decodeCost);
    return {
      source: `measured on ${hostname()} at ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, backend ${options.backend}`,
      model: { name: config.model, paramCount: P, microBatchSize: config.microBatchSize, backend: options.backend },
      computeMs,
      encode,
      decode: decodeCost,
      foldMsPerMFloat: (foldMs * 1e6) / P,
      applyMsPerMFloat: (Math.max(0, applyMs - copyMs) * 1e6) / P,
      coordinatorMsPerMessage: encode.fixedMs + decodeCost.fixedMs,
      wire,
      cores: cpus().length,
    };
  } finally {
    model.dispose();
  }
}

/** Loopback latency and throughput of the real transport, codec costs taken out. */
async function measureWire(P: number, encode: LinearCost, decode: LinearCost): Promise<{ latencyMs: number; bandwidthMBps: number }> {
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
    const smallRound = await medianMs(() => client.request({ type: 'status' }), 200);
    const bigRound = await medianMs(() => client.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 }), 40);
    const small = encode.fixedMs + decode.fixedMs;
    const latencyMs = Math.max(0.005, smallRound / 2 - small);
    const bytes = 4 * P;
    const wireMs = bigRound - smallRound - (encode.msPerMB * bytes) / 1e6 - (decode.msPerMB * bytes) / 1e6;
    // A wire faster than the codec can be measured against is taken as 10 GB/s (memory speed), not as infinite.
    const bandwidthMBps = wireMs > bytes / 1e10 ? bytes / 1e3 / wireMs : 10_000;
    return { latencyMs, bandwidthMBps };
  } finally {
    client.close();
    await server.close();
  }
}
