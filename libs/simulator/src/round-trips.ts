import type { Connection } from '@dptrain/protocol';
import { costOf, upperMedian as median, type LinearCost } from './calibration.js';

/** CPU milliseconds of one side of a channel: all its threads, and the thread that serves the channel. */
export interface Sides {
  readonly all: number;
  readonly main: number;
}

/** Per round: each side's CPU (medians over the batches) and the least wall time. */
export interface RoundCosts {
  readonly client: Sides;
  readonly server: Sides;
  readonly wall: number;
}

/**
 * Each side's CPU so far (cumulative milliseconds). The server's may take a round of its own (a
 * status request): it is read before the client's at a batch's start and after it at its end, so
 * the client's figure holds only the rounds measured.
 */
export interface CpuReaders {
  client(): Sides;
  server(): Sides | Promise<Sides>;
}

/** The three rounds a channel is calibrated with. */
export interface RoundTrips {
  /** A status request and its reply: two small frames. */
  readonly small: RoundCosts;
  /** A full gradient pushed, a small ack back. */
  readonly push: RoundCosts;
  /** A small pull, the full vector back. */
  readonly pull: RoundCosts;
}

/**
 * Times the three rounds over `client` (the peer answers them as calibration-peer.ts does), after
 * ten untimed ones each. Where the server's CPU is read with a status request, its figure
 * includes one such round per batch besides the n measured: negligible at n ≥ 20.
 */
export async function timeRoundTrips(client: Connection, paramCount: number, read: CpuReaders): Promise<RoundTrips> {
  const grads = new Float32Array(paramCount).fill(1e-3);
  const small = await timeRounds(() => client.request({ type: 'status' }), 100, 9, read);
  const push = await timeRounds(
    () => client.request({ type: 'push', step: 0, microBatchId: 0, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 }),
    20,
    25,
    read,
  );
  const pull = await timeRounds(() => client.request({ type: 'pull', step: 0 }), 20, 25, read);
  return { small, push, pull };
}

async function timeRounds(round: () => Promise<unknown>, n: number, batches: number, read: CpuReaders): Promise<RoundCosts> {
  for (let i = 0; i < 10; i++) await round();
  const client: Sides[] = [];
  const server: Sides[] = [];
  let wall = Infinity;
  const per = (a: Sides, b: Sides): Sides => ({ all: (b.all - a.all) / n, main: (b.main - a.main) / n });
  for (let b = 0; b < batches; b++) {
    const s0 = await read.server();
    const c0 = read.client();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await round();
    wall = Math.min(wall, (performance.now() - t0) / n);
    const c1 = read.client();
    const s1 = await read.server();
    client.push(per(c0, c1));
    server.push(per(s0, s1));
  }
  const mid = (sides: Sides[]): Sides => ({ all: median(sides.map((x) => x.all)), main: median(sides.map((x) => x.main)) });
  return { client: mid(client), server: mid(server), wall };
}

/**
 * The channel's CPU on each side of a message beyond the codec, fixed + per megabyte of tensors:
 * a small frame costs each side the same; a big one's sending and receiving costs come from the
 * push and pull rounds (each the mean of the two sides that show it), less the codec's measured
 * encoding and decoding. Main threads only: the cost on the critical path of each side.
 */
export function perSideCost(t: RoundTrips, encode: LinearCost, decode: LinearCost, bytes: number): LinearCost {
  const MB = bytes / 1e6;
  const smallSide = (t.small.client.main + t.small.server.main) / 4;
  const sendBig = (t.push.client.main - smallSide + (t.pull.server.main - smallSide)) / 2;
  const receiveBig = (t.push.server.main - smallSide + (t.pull.client.main - smallSide)) / 2;
  const fixedMs = Math.max(0, smallSide - (encode.fixedMs + decode.fixedMs) / 2);
  const sendPerMB = (sendBig - costOf(encode, bytes) - fixedMs) / MB;
  const receivePerMB = (receiveBig - costOf(decode, bytes) - fixedMs) / MB;
  return { fixedMs, msPerMB: Math.max(0, (sendPerMB + receivePerMB) / 2) };
}

/** The wall time of a round in which neither side's serving thread ran (the other threads' CPU runs beside them and hid it). */
export function idleMs(x: RoundCosts): number {
  return Math.max(0, x.wall - x.client.main - x.server.main);
}
