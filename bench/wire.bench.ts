// Loopback throughput of dptrain's push/params frames next to raw ws binary frames carrying the
// same bytes, measured in the same run, with ws masking through bufferutil and without it.
//
//   npx tsx bench/wire.bench.ts
//   npx tsx bench/wire.bench.ts --reps 9
//
// One round = what a worker does per micro-batch: push N floats (the peer answers with a small
// ack), then pull N floats (small request, N floats back). Raw ws: the same four frames as bare
// binary payloads of the same sizes, no encoding and no validation, masked with the all-zero key
// dptrain's clients use (so neither side runs a masking pass; bufferutil then matters only for
// peers that mask). dptrain: Connection.request()
// with encoding, the header schema, length checks against paramCount and the NaN/Inf scan on both
// sides; its tensors come from allocateTensor(), so frames go to the socket in place, as raw ws
// sends its buffers. Server and client share this process (one thread), as they do for both rows.
// Each cell: (8·N bytes moved) / (median time per round over `reps` batches of a few rounds); raw
// and dptrain batches alternate so that load from other processes on the machine hits both alike.
// The rows without bufferutil run in a child process started with WS_NO_BUFFER_UTIL=1, because ws
// reads that variable once, when it loads.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateTensor, connect, createServer, maskingImplementation, type Connection, type WireStats } from '@dptrain/protocol';
import { silentLogger } from '@dptrain/log';
import { WebSocket, WebSocketServer } from 'ws';
import { median } from './lib/stats.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`--${name} must be a positive integer, got ${process.argv[at + 1]}; e.g. --${name} ${fallback}`);
  }
  return value;
}

const REPS = option('reps', 21);
const SIZES = [
  { name: 'MLP 784-256-128-10', floats: 235_146, rounds: 8 },
  { name: '4 MiB tensor', floats: 1_048_576, rounds: 3 },
];
const TOKEN = 'wire-bench-token-0001';
const JOB = 'wire-bench';

interface Cell {
  readonly size: string;
  readonly floats: number;
  readonly masking: string;
  /** Throughput from wall time. */
  readonly rawMBps: number;
  readonly oursMBps: number;
  /** Throughput from this process's CPU time (user + system), which other load barely disturbs. */
  readonly rawCpuMBps: number;
  readonly oursCpuMBps: number;
  /** Frames each side received and how many needed the one-copy alignment fix. */
  readonly framesIn: number;
  readonly unalignedCopies: number;
}

/**
 * A raw ws echo pair answering as the parameter server would: small ack to a big frame, big frame
 * to a small one. `zeroMask`: the client masks with an all-zero key, as dptrain's clients do
 * (libs/protocol/src/client.ts), so ws skips masking; otherwise ws's default random key.
 */
export async function rawPair(floats: number, { zeroMask = false } = {}): Promise<{ round: () => Promise<void>; close: () => Promise<void> }> {
  const bytes = 4 * floats;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 2 * bytes, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const reply = Buffer.alloc(bytes, 1);
  const ack = Buffer.alloc(16);
  wss.on('connection', (socket) => {
    socket.on('message', (data) => socket.send((data as Buffer).length > 64 ? ack : reply, { binary: true }));
  });
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, {
    maxPayload: 2 * bytes,
    perMessageDeflate: false,
    ...(zeroMask ? { generateMask: (mask: Uint8Array) => mask.fill(0) } : {}),
  });
  await new Promise<void>((resolve) => client.once('open', resolve));
  const payload = Buffer.alloc(bytes, 2);
  const small = Buffer.alloc(16);
  let waiting: (() => void) | undefined;
  client.on('message', () => waiting?.());
  const exchange = (data: Buffer) =>
    new Promise<void>((resolve) => {
      waiting = resolve;
      client.send(data, { binary: true });
    });
  return {
    round: async () => {
      await exchange(payload);
      await exchange(small);
    },
    close: async () => {
      client.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A dptrain parameter server and worker: request(push) → pushAck, request(pull) → params. */
export async function dptrainPair(floats: number) {
  // Tensors with headroom (allocateTensor) travel in place: the header is written in front of
  // them and the frame goes to the socket without a copy.
  const values = allocateTensor(floats).fill(0.5);
  let serverStats: WireStats | undefined;
  const server = await createServer({
    token: TOKEN,
    jobId: JOB,
    role: 'ps',
    validateOptions: { paramCount: floats },
    log: silentLogger,
    onConnection: (connection) => {
      serverStats = connection.stats;
      connection.on('message', (msg) => {
        if (msg.type === 'push') {
          void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
        } else if (msg.type === 'pull') {
          void connection.reply(msg, { type: 'params', version: 1, step: msg.step ?? 0, offset: 0, values });
        }
      });
    },
  });
  const worker: Connection = await connect(server.url, {
    token: TOKEN,
    jobId: JOB,
    role: 'worker',
    validateOptions: { paramCount: floats },
    log: silentLogger,
  });
  const grads = allocateTensor(floats).fill(0.25);
  let step = 0;
  return {
    round: async () => {
      await worker.request({ type: 'push', step, microBatchId: 0, version: step, generation: 0, offset: 0, grads, loss: 1, samples: 64 });
      await worker.request({ type: 'pull', step: ++step });
    },
    stats: () => ({
      framesIn: worker.stats.framesIn + (serverStats?.framesIn ?? 0),
      unalignedCopies: worker.stats.unalignedCopies + (serverStats?.unalignedCopies ?? 0),
    }),
    close: async () => {
      worker.close();
      await server.close();
    },
  };
}

export interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Wall and CPU milliseconds per round, over one batch of `rounds` rounds. */
export async function timeRounds(round: () => Promise<void>, rounds: number): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const wallMs = (performance.now() - t0) / rounds;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 / rounds };
}

async function measureAll(): Promise<Cell[]> {
  const masking = maskingImplementation();
  const cells: Cell[] = [];
  for (const size of SIZES) {
    const raw = await rawPair(size.floats, { zeroMask: true });
    const ours = await dptrainPair(size.floats);
    // Warm-up: JIT, socket buffers, first-time allocations.
    await timeRounds(raw.round, 3);
    await timeRounds(ours.round, 3);
    const rawTimes: Timing[] = [];
    const ourTimes: Timing[] = [];
    // Alternate the two so drift on a shared machine hits both alike.
    for (let rep = 0; rep < REPS; rep++) {
      rawTimes.push(await timeRounds(raw.round, size.rounds));
      ourTimes.push(await timeRounds(ours.round, size.rounds));
    }
    const mbps = (times: Timing[], key: keyof Timing) => (8 * size.floats) / 1e3 / median(times.map((t) => t[key]));
    cells.push({
      size: size.name,
      floats: size.floats,
      masking,
      rawMBps: mbps(rawTimes, 'wallMs'),
      oursMBps: mbps(ourTimes, 'wallMs'),
      rawCpuMBps: mbps(rawTimes, 'cpuMs'),
      oursCpuMBps: mbps(ourTimes, 'cpuMs'),
      ...ours.stats(),
    });
    await raw.close();
    await ours.close();
  }
  return cells;
}

function measureWithoutBufferUtil(): Cell[] {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...process.execArgv, script, '--child', '--reps', String(REPS)], {
    env: { ...process.env, WS_NO_BUFFER_UTIL: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) {
    throw new Error(`the WS_NO_BUFFER_UTIL=1 run failed (exit ${child.status}): ${child.stderr}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '[]') as Cell[];
}

function printTable(cells: Cell[]): void {
  const rows = cells.map((c) => [
    c.size,
    String(c.floats),
    c.masking,
    c.rawMBps.toFixed(0),
    c.oursMBps.toFixed(0),
    `${(c.oursMBps / c.rawMBps).toFixed(2)}×`,
    c.rawCpuMBps.toFixed(0),
    c.oursCpuMBps.toFixed(0),
    `${(c.oursCpuMBps / c.rawCpuMBps).toFixed(2)}×`,
    `${c.unalignedCopies}/${c.framesIn}`,
  ]);
  const header = ['payload', 'floats', 'ws masking', 'raw MB/s', 'ours MB/s', 'ratio', 'raw MB/cpu-s', 'ours MB/cpu-s', 'cpu ratio', 'unaligned copies'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

// Imported (bench/cluster.bench.ts reuses the pairs): measure nothing.
const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (!isMain) {
  // nothing to run
} else if (process.argv.includes('--child')) {
  console.log(JSON.stringify(await measureAll()));
} else {
  console.log(`Node ${process.version}, ${REPS} reps; MB/s = 8·N bytes per push+pull round / median wall time per round;`);
  console.log('MB/cpu-s = the same bytes / median CPU time (user + system) of this process per round\n');
  const cells = [...(await measureAll()), ...measureWithoutBufferUtil()];
  printTable(cells);
}
