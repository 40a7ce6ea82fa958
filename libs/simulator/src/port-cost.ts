import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { connectPort, maxPayloadFor } from '@dptrain/protocol';
import type { LinearCost, PortCost } from './calibration.js';
import { processCpu, schedstatNs } from './main-thread-cpu.js';
import { idleMs, perSideCost, timeRoundTrips, type Sides } from './round-trips.js';
import { packageScript } from './transport-cost.js';

/** Starts port-peer.ts in a thread of this process, handing it `port`; resolves with the thread and its schedstat file. */
async function startPortPeer(port: MessagePort, floats: number): Promise<{ thread: Worker; schedstat: string | undefined }> {
  const script = pathToFileURL(packageScript('port-peer.ts')).href;
  // From the sources or from the command's bundle alike, the thread's script is the package's TypeScript: through tsx.
  const thread = new Worker(
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); })`,
    { eval: true, workerData: { port, floats }, transferList: [port] },
  );
  try {
    const schedstat = await new Promise<string | undefined>((resolve, reject) => {
      thread.once('message', (note: { schedstat?: string }) => resolve(note.schedstat));
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the calibration's port peer (${script}) exited with code ${code} before it answered`)));
    });
    return { thread, schedstat };
  } catch (error) {
    await thread.terminate();
    throw error;
  }
}

/**
 * A co-located worker's channel to its own shard's thread (port-connection.ts): a client on this
 * thread and port-peer.ts on a thread of this process, timed over the calibration's three rounds
 * (round-trips.ts). Less the codec's measured encoding and decoding, each thread's CPU is the
 * port's per side (copying a frame's parts into one buffer to hand over, posting it, waking the
 * other thread and taking it in), fixed + per megabyte. The wall time neither thread spent on CPU
 * is the hand-over's latency (half the small round's, one each way); the process's other threads'
 * CPU per megabyte received beyond a small round's is its receive helpers'. Undefined where a
 * thread's CPU cannot be read (no Linux schedstat): the two threads' costs cannot be told apart.
 */
export async function measurePort(P: number, encode: LinearCost, decode: LinearCost): Promise<PortCost | undefined> {
  const { port1, port2 } = new MessageChannel();
  const peer = await startPortPeer(port2, P);
  const client = connectPort(
    port1,
    { role: 'worker', name: 'calibration', validateOptions: { paramCount: P }, maxPayload: maxPayloadFor(P) },
    { role: 'ps', name: 'calibration-shard' },
    'calibration',
  );
  try {
    const schedstat = peer.schedstat;
    if (schedstat === undefined || schedstatNs(schedstat) === undefined) return undefined;
    const peerMs = (): number => (schedstatNs(schedstat) ?? 0) / 1e6;
    const rounds = await timeRoundTrips(client, P, {
      // The process's threads besides the peer's: this thread and the helpers both share.
      client: () => {
        const own = processCpu();
        const peerThread = peerMs();
        return { all: own.all - peerThread, main: own.main };
      },
      server: () => {
        const ms = peerMs();
        return { all: ms, main: ms };
      },
    });
    const bytes = 4 * P;
    const helpers = (x: Sides) => Math.max(0, x.all - x.main);
    const bigHelpers = (helpers(rounds.push.client) + helpers(rounds.pull.client)) / 2;
    return {
      ...perSideCost(rounds, encode, decode, bytes),
      latencyMs: idleMs(rounds.small) / 2,
      receiveHelperMsPerMB: Math.max(0, (bigHelpers - helpers(rounds.small.client)) / (bytes / 1e6)),
    };
  } finally {
    client.close();
    await peer.thread.terminate();
  }
}
