// What one optimizer step costs on a 10M-parameter vector (the parameter server's inner loop),
// next to a plain copy of the same vector and TensorFlow.js's own Adam on the cpu and wasm backends,
// all measured in this run.
//
//   npx tsx bench/optim.bench.ts                  # or: npm run bench:optim
//   npx tsx bench/optim.bench.ts --size 1000000 --reps 5
//
// Each row: median wall time of one call over `reps` timed calls, after warm-up calls. Gradients
// are those of a fixed quadratic at the current point, computed outside the timed region, so
// L-BFGS stores real curvature pairs (its warm-up fills the history first).
import { initBackend } from '@dptrain/backend';
import { clipByGlobalNorm, createOptimizer, meanInOrder } from '@dptrain/optim';
import type { OptimizerConfig } from '@dptrain/optim';
import * as tf from '@tensorflow/tfjs-core';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`--${name} must be a positive integer, got ${process.argv[at + 1]}; e.g. --${name} ${fallback}`);
  }
  return value;
}

const SIZE = option('size', 10_000_000);
const REPS = option('reps', 7);

/** Mulberry32, uniform in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rng = random(1);
const start = Float32Array.from({ length: SIZE }, () => 2 * rng() - 1);
const curvature = Float32Array.from({ length: SIZE }, () => 0.5 + rng());
const target = Float32Array.from({ length: SIZE }, () => 2 * rng() - 1);

/** ∇ of Σ ½a_i(w_i − c_i)² at `point`. */
function gradient(point: Float32Array, out: Float32Array): void {
  for (let i = 0; i < SIZE; i++) out[i] = curvature[i] * (point[i] - target[i]);
}

/** Median milliseconds of `run()` over REPS calls after `warmup` calls; `prepare()` is not timed. */
function measure(
  run: () => void,
  { prepare, warmup = 2, reps = REPS }: { prepare?: () => void; warmup?: number; reps?: number } = {},
): number {
  for (let i = 0; i < warmup; i++) {
    prepare?.();
    run();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    prepare?.();
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const rows: { what: string; ms: number }[] = [];
const params = new Float32Array(SIZE);
const grads = new Float32Array(SIZE);
const point = new Float32Array(SIZE);

const copy = new Float32Array(SIZE);
const memcpy = measure(() => copy.set(start));
rows.push({ what: 'memcpy (Float32Array.prototype.set)', ms: memcpy });

const configs: OptimizerConfig[] = [
  { name: 'sgd' },
  { name: 'momentum' },
  { name: 'nesterov' },
  { name: 'adagrad' },
  { name: 'adadelta' },
  { name: 'adam' },
  { name: 'adamw' },
  { name: 'rmsprop' },
  { name: 'lbfgs' },
];
for (const config of configs) {
  params.set(start);
  const opt = createOptimizer(config, SIZE);
  const hasLookahead = opt.lookahead(params, point);
  // Nesterov's look-ahead is a pass the server makes every step, so it is timed with the step.
  const run = hasLookahead
    ? () => {
        opt.lookahead(params, point);
        opt.step(params, grads);
      }
    : () => opt.step(params, grads);
  const warmup = config.name === 'lbfgs' ? (opt.config.history ?? 10) + 2 : 2;
  const ms = measure(run, { prepare: () => gradient(params, grads), warmup });
  rows.push({ what: hasLookahead ? `${config.name} (look-ahead + step)` : config.name, ms });
}

params.set(start);
gradient(params, grads);
rows.push({
  what: 'clipByGlobalNorm (norm + scale)',
  ms: measure(() => clipByGlobalNorm(grads, 1e-3), { prepare: () => grads.set(start) }),
});
const microBatches = Array.from({ length: 4 }, (_, m) => Float32Array.from(start, (x) => x * (m + 1)));
rows.push({ what: 'meanInOrder of 4 micro-batch gradients', ms: measure(() => meanInOrder(microBatches, grads)) });

const tfRows: { backend: string; ms: number }[] = [];
for (const backend of ['cpu', 'wasm'] as const) {
  await initBackend(backend);
  const variable = tf.tidy(() => tf.variable(tf.tensor1d(start)));
  const adam = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  let g: tf.Tensor1D | undefined;
  const slow = backend === 'cpu';
  const ms = measure(() => adam.applyGradients([{ name: variable.name, tensor: g! }]), {
    prepare: () => {
      g?.dispose();
      gradient(variable.dataSync() as Float32Array, grads);
      g = tf.tensor1d(grads);
    },
    warmup: slow ? 1 : 2,
    reps: slow ? Math.min(REPS, 3) : REPS,
  });
  g?.dispose();
  adam.dispose();
  variable.dispose();
  tfRows.push({ backend, ms });
  rows.push({ what: `tf.train.adam, ${backend} backend`, ms });
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log(`\n${SIZE.toLocaleString('en-US')} parameters, median of ${REPS} steps (tfjs cpu: 3), Node ${process.version}\n`);
console.log('| operation | ms / step | × memcpy |');
console.log('|---|---:|---:|');
for (const { what, ms } of rows) console.log(`| ${what} | ${fmt(ms)} | ${(ms / memcpy).toFixed(1)} |`);

const adamMs = rows.find((r) => r.what === 'adam')!.ms;
const bestTf = Math.min(...tfRows.map((r) => r.ms));
console.log(`\nAdam: ${(adamMs / memcpy).toFixed(1)}× memcpy (target ≤ 4×)`);
for (const { backend, ms } of tfRows) {
  console.log(`Adam: ${(ms / adamMs).toFixed(1)}× faster than tf.train.adam on ${backend} (target ≥ 3×)`);
}
console.log(`Fastest tfjs Adam: ${fmt(bestTf)} ms`);
