/**
 * Child: times three kinds of work in turn on the one CPU it was started on (taskset), for
 * `--seconds`, and reports each kind's per-second medians. The seconds count from `--start`
 * (milliseconds since the epoch, the same for every core), so that the cores' seconds line up.
 *
 * - gradient: the gradient of one micro-batch of 16 samples through dptrain's MLP (235,146
 *   parameters) on the wasm backend, what a worker computes;
 * - stream: a sum over 4 MiB of floats, bound by the caches and memory;
 * - chain: a chain of dependent square roots, bound by the core's arithmetic alone.
 *
 *   node --import tsx bench/core-speed/measure-core.ts --seconds 20 --start 1796640000000
 */
import { initBackend } from '@dptrain/backend';
import { createModel } from '@dptrain/model';
import { parseFlags } from '../lib/args.js';
import { reportToParent } from '../lib/child.js';
import { KERNELS, perSecondMedians, type CoreSeconds, type Kernel, type Timing } from './seconds.js';

const STREAM = new Float32Array(1 << 20).map((_, i) => (i % 7) * 0.1);

function stream(): number {
  // Four sums, so that the loop waits on the loads rather than on one chain of additions.
  let [a, b, c, d] = [0, 0, 0, 0];
  for (let i = 0; i < STREAM.length; i += 4) {
    a += STREAM[i]!;
    b += STREAM[i + 1]!;
    c += STREAM[i + 2]!;
    d += STREAM[i + 3]!;
  }
  return a + b + c + d;
}

function chain(): number {
  let x = 0;
  for (let i = 0; i < 100_000; i++) x += Math.sqrt(i + x * 1e-9);
  return x;
}

await reportToParent(async (): Promise<CoreSeconds> => {
  const { seconds, start } = parseFlags(process.argv.slice(2), {
    seconds: { kind: 'int', help: 'seconds to time' },
    start: { kind: 'int', help: 'when the first second begins, in ms since the epoch' },
  });
  if (seconds === undefined || start === undefined) throw new RangeError('measure-core needs --seconds <n> and --start <ms since the epoch>');
  await initBackend('wasm');
  const model = createModel({ name: 'mlp' });
  const params = model.init(1);
  const batch = { x: new Float32Array(16 * 784).map((_, i) => (i % 255) / 255), y: Int32Array.from({ length: 16 }, (_, i) => i % 10), count: 16 };
  const grad = new Float32Array(model.paramCount);
  const work: Record<Kernel, () => unknown> = { gradient: () => model.computeGradients(params, batch, grad), stream, chain };
  // Warm-up: the wasm kernels and V8's tiers settle over the first few dozen calls.
  for (let i = 0; i < 40; i++) for (const kernel of KERNELS) work[kernel]();
  while (Date.now() < start) await new Promise((resolve) => setTimeout(resolve, Math.min(50, start - Date.now())));
  const timings: Record<Kernel, Timing[]> = { gradient: [], stream: [], chain: [] };
  const origin = performance.now() - (Date.now() - start);
  while (performance.now() - origin < seconds * 1000) {
    for (const kernel of KERNELS) {
      const t0 = performance.now();
      work[kernel]();
      timings[kernel].push({ atS: (t0 - origin) / 1000, ms: performance.now() - t0 });
    }
  }
  model.dispose();
  return { gradient: perSecondMedians(timings.gradient), stream: perSecondMedians(timings.stream), chain: perSecondMedians(timings.chain) };
});
