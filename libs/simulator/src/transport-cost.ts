import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { silentLogger } from '@dptrain/log';
import { connect } from '@dptrain/protocol';
import type { LinearCost } from './calibration.js';
import { processCpu } from './main-thread-cpu.js';
import { idleMs, perSideCost, timeRoundTrips } from './round-trips.js';

/** The path of a script of this package, through the package: bundled into the command, the calibration runs from apps/cli/dist. */
export function packageScript(name: string): string {
  return join(dirname(createRequire(import.meta.url).resolve('@dptrain/simulator')), name);
}

/** Starts transport-peer.ts in a process of its own; resolves with its URL and a way to stop it. */
async function startPeer(floats: number): Promise<{ url: string; stop: () => void }> {
  const script = packageScript('transport-peer.ts');
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
 * client here and transport-peer.ts in a child process, which reports its CPU time, timed over the
 * calibration's three rounds (round-trips.ts). Less the codec's measured encoding and decoding,
 * the main threads' CPU is the transport's per side (socket writes and reads, kernel copies, ws
 * framing), fixed + per megabyte. The wall time neither side spent on CPU is the wire: latency
 * from the small round, throughput from the extra time of the big ones (10 GB/s when there is
 * none to measure).
 */
export async function measureTransport(
  P: number,
  encode: LinearCost,
  decode: LinearCost,
): Promise<{ transport: LinearCost; receiveHelperMsPerMB: number; wire: { latencyMs: number; bandwidthMBps: number } }> {
  const peer = await startPeer(P);
  const client = await connect(peer.url, {
    token: 'calibration-of-this-machine',
    jobId: 'calibration',
    role: 'worker',
    validateOptions: { paramCount: P },
    log: silentLogger,
  });
  try {
    const rounds = await timeRoundTrips(client, P, {
      client: processCpu,
      server: async () => {
        const detail = (await client.request({ type: 'status' })).detail as { cpuMs: number; mainCpuMs: number };
        return { all: detail.cpuMs, main: detail.mainCpuMs };
      },
    });
    const { small, push, pull } = rounds;
    const bytes = 4 * P;
    const MB = bytes / 1e6;
    const transport = perSideCost(rounds, encode, decode, bytes);
    // The other threads: collecting a received frame's buffers (the receiving side's helpers, beyond a small round's).
    const helpers = (x: { all: number; main: number }) => Math.max(0, x.all - x.main);
    const smallHelpers = (helpers(small.client) + helpers(small.server)) / 2;
    const receiveHelperMsPerMB = Math.max(0, ((helpers(push.server) + helpers(pull.client)) / 2 - smallHelpers) / MB);
    const idleSmall = idleMs(small);
    const idleBig = (idleMs(push) + idleMs(pull)) / 2;
    const latencyMs = Math.max(0.005, idleSmall / 2);
    const wireMs = idleBig - idleSmall;
    const bandwidthMBps = wireMs > bytes / 1e10 ? Math.min(10_000, bytes / 1e3 / wireMs) : 10_000;
    return { transport, receiveHelperMsPerMB, wire: { latencyMs, bandwidthMBps } };
  } finally {
    client.close();
    peer.stop();
  }
}
