import { Worker } from 'node:worker_threads';
import { upperMedian, type SchedulerCost } from './calibration.js';

/** A thread that spins for `ms`, noting each stretch it was kept off the CPU (a gap over 0.1 ms), and posts the gaps. */
const SPINNER = `
const { parentPort, workerData } = require('node:worker_threads');
const gaps = [];
const end = process.hrtime.bigint() + BigInt(Math.round(workerData.ms * 1e6));
let last = process.hrtime.bigint();
for (;;) {
  const now = process.hrtime.bigint();
  if (now - last > 100000n) gaps.push(Number(now - last) / 1e6);
  last = now;
  if (now > end) break;
}
parentPort.postMessage(gaps);
`;

function spin(ms: number): Promise<number[]> {
  // Not the parent's flags: its --input-type or loaders would change how the CommonJS source is read.
  const worker = new Worker(SPINNER, { eval: true, workerData: { ms }, execArgv: [] });
  const gaps = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Gone before the caller moves the process back: `taskset --all-tasks` fails on a thread that exits under it.
  return gaps.finally(() => worker.terminate());
}

/**
 * How this machine's scheduler shares one CPU, measured with two threads of this process, which
 * the caller has pinned to a single CPU (threads inherit the affinity of the thread that starts
 * them): the two spin and take turns, and the median stretch one is kept off the CPU is the
 * other's turn, `sliceMs` (on Linux the base slice, but enforced at the timer tick: 4 ms at
 * HZ=250). Undefined when they never took turns (they ran on two CPUs).
 */
export async function probeScheduler(spinMs = 1500): Promise<SchedulerCost | undefined> {
  const gaps = (await Promise.all([spin(spinMs), spin(spinMs)])).flat();
  // Interrupts keep a thread off its CPU for a tenth of a millisecond or so; turns are longer.
  const turns = gaps.filter((gap) => gap >= 0.5);
  return turns.length < 10 ? undefined : { sliceMs: upperMedian(turns) };
}
