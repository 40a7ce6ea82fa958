// Started as a child process by calibrate.ts (measureTransport): a protocol server in a process of
// its own, as a shard is, answering pushes with an ack, pulls with `floats` parameters, and
// status requests with its CPU time so far (the whole process's and its main thread's), so that a message's cost on each side is measured
// across two processes, kernel socket work included. Prints its URL on stdout; exits when its
// stdin closes.
//
//   node --import tsx libs/simulator/src/transport-peer.ts <floats>
import { silentLogger } from '@dptrain/log';
import { allocateTensor, createServer } from '@dptrain/protocol';
import { mainThreadNs } from './main-thread-cpu.js';

const floats = Number(process.argv[2]);
if (!Number.isSafeInteger(floats) || floats < 1) {
  process.stderr.write(`transport-peer: the first argument must be the parameter count, got ${process.argv[2]}\n`);
  process.exit(2);
}
const values = allocateTensor(floats).fill(0.5);
const server = await createServer({
  token: 'calibration-of-this-machine',
  jobId: 'calibration',
  role: 'ps',
  validateOptions: { paramCount: floats },
  log: silentLogger,
  onConnection: (connection) => {
    connection.on('message', (msg) => {
      if (msg.type === 'push') void connection.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
      else if (msg.type === 'pull') void connection.reply(msg, { type: 'params', version: 0, step: msg.step ?? 0, offset: 0, values });
      else if (msg.type === 'status') {
        const cpu = process.cpuUsage();
        // The main thread's part apart (Linux schedstat): the rest is V8's helper threads, collecting the frames' buffers.
        // Where the main thread's time cannot be read, all of it counts as main, as on the calibrating side.
        const cpuMs = (cpu.user + cpu.system) / 1000;
        const mainNs = mainThreadNs();
        const detail = { cpuMs, mainCpuMs: mainNs === undefined ? cpuMs : mainNs / 1e6 };
        void connection.reply(msg, { type: 'statusReport', role: 'ps', step: 0, version: 0, detail });
      }
    });
  },
});
process.stdout.write(`${server.url}\n`);
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
process.stdin.resume();
