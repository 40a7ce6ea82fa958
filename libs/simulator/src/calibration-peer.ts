import { allocateTensor, type Connection } from '@dptrain/protocol';

/** CPU milliseconds a calibration peer has used: all its threads', and its serving thread's. */
export interface PeerCpu {
  readonly cpuMs: number;
  readonly mainCpuMs: number;
}

/**
 * The far end of the calibration's rounds (round-trips.ts), as a shard answers them: a push with
 * an ack, a pull with `floats` parameters, a status request with its CPU so far. Shared by the
 * process across a socket (transport-peer.ts) and the thread across a port (port-peer.ts), so both
 * channels are timed on the same work.
 */
export function answerRounds(connection: Connection, floats: number, cpu: () => PeerCpu): void {
  const values = allocateTensor(floats).fill(0.5);
  connection.on('message', (msg) => {
    if (msg.type === 'push') void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
    else if (msg.type === 'pull') void connection.reply(msg, { type: 'params', version: 0, step: msg.step ?? 0, offset: 0, values });
    else if (msg.type === 'status') void connection.reply(msg, { type: 'statusReport', role: 'ps', step: 0, version: 0, detail: { ...cpu() } });
  });
}
