// Started as a worker thread by the calibration (port-cost.ts), as a co-located worker starts its
// shard's thread: answers the calibration's rounds (calibration-peer.ts) over the MessagePort it is
// handed, through the same port connection the shard's thread serves its worker with. Posts its
// schedstat file first, so that the calibrating thread reads this thread's CPU without a round.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { connectPort, maxPayloadFor } from '@dptrain/protocol';
import { answerRounds } from './calibration-peer.js';
import { schedstatNs, thisThreadSchedstat } from './main-thread-cpu.js';

const { port, floats } = workerData as { port: MessagePort; floats: number };
const schedstat = thisThreadSchedstat();
const connection = connectPort(
  port,
  { role: 'ps', name: 'calibration-shard', validateOptions: { paramCount: floats }, maxPayload: maxPayloadFor(floats) },
  { role: 'worker', name: 'calibration' },
  'calibration',
);
answerRounds(connection, floats, () => {
  const ms = schedstat === undefined ? 0 : (schedstatNs(schedstat) ?? 0) / 1e6;
  return { cpuMs: ms, mainCpuMs: ms };
});
parentPort!.postMessage({ schedstat });
