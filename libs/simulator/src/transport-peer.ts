// Started as a child process by the calibration (transport-cost.ts): a protocol server in a
// process of its own, as a shard is, answering the calibration's rounds (calibration-peer.ts), so
// that a message's cost on each side is measured across two processes, kernel socket work
// included. Prints its URL on stdout; exits when its stdin closes.
//
//   node --import tsx libs/simulator/src/transport-peer.ts <floats>
import { silentLogger } from '@dptrain/log';
import { createServer } from '@dptrain/protocol';
import { answerRounds } from './calibration-peer.js';
import { processCpu } from './main-thread-cpu.js';

const floats = Number(process.argv[2]);
if (!Number.isSafeInteger(floats) || floats < 1) {
  process.stderr.write(`transport-peer: the first argument must be the parameter count, got ${process.argv[2]}\n`);
  process.exit(2);
}
const server = await createServer({
  token: 'calibration-of-this-machine',
  jobId: 'calibration',
  role: 'ps',
  validateOptions: { paramCount: floats },
  log: silentLogger,
  onConnection: (connection) =>
    answerRounds(connection, floats, () => {
      // The main thread's part apart (Linux schedstat): the rest is V8's helper threads, collecting the frames' buffers.
      const { all, main } = processCpu();
      return { cpuMs: all, mainCpuMs: main };
    }),
});
process.stdout.write(`${server.url}\n`);
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
process.stdin.resume();
