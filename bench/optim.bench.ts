// What one optimizer step costs on a 10M-parameter vector (the parameter server's inner loop),
// next to a plain copy of the same vector and TensorFlow.js's own Adam on the cpu and wasm backends,
// all measured in this run; and the fold of a pushed gradient into a step's sum, in JavaScript and
// as GradientSum's SIMD kernel.
//
//   npx tsx bench/optim.bench.ts                  # or: npm run bench:optim
//   npx tsx bench/optim.bench.ts --size 1000000 --reps 5   (npm run bench:optim -- --reps 5)
//
// Each element-wise optimizer gets three rows: `step()` on the optimizer's own buffers (zero-copy,
// the WebAssembly SIMD kernel alone), `step()` on the caller's arrays (copied in and out around
// the kernel), and the plain JavaScript reference loop (`adamStep` & co., what `step()` ran
// before the kernels). Each row: median wall time of one call over `reps` timed calls, after
// warm-up calls. Gradients are those of a fixed quadratic at the current point, computed outside
// the timed region, so L-BFGS stores real curvature pairs (its warm-up fills the history first).
import { initBackend } from '@dptrain/backend';
import {
  accumulate,
  adadeltaStep,
  adagradStep,
  adamStep,
  clipByGlobalNorm,
  createOptimizer,
  GradientSum,
  meanInOrder,
  momentumStep,
  nesterovLookahead,
  rmspropStep,
  scaleFromZero,
  sgdStep,
} from '@dptrain/optim';
import type { Optimizer, OptimizerConfig } from '@dptrain/optim';
import * as tf from '@tensorflow/tfjs-core';
import { parseFlags } from './lib/args.js';
import { median } from './lib/stats.js';
import { formatRatio, formatTable } from './lib/table.js';

const flags = parseFlags(process.argv.slice(2), {
  size: { kind: 'int', help: 'parameters in the vector', default: 10_000_000 },
  reps: { kind: 'int', help: 'timed calls per row (tfjs cpu: at most 3)', default: 7 },
});
const SIZE = flags.size;
const REPS = flags.reps;

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

const copy = new Float32Array(SIZE);

interface Timing {
  /** Median ms of the operation. */
  readonly ms: number;
  /** Median ms of a memcpy of SIZE floats timed right before each call of the operation. */
  readonly memcpyMs: number;
}

/**
 * Times REPS calls of `run()` after `warmup` calls; `prepare()` is not timed. Each call is paired
 * with a memcpy of the same size just before it, so the ratio holds even when other processes on
 * the machine change the available memory bandwidth from one row to the next.
 */
function measure(run: () => void, { prepare, warmup = 2, reps = REPS }: { prepare?: () => void; warmup?: number; reps?: number } = {}): Timing {
  for (let i = 0; i < warmup; i++) {
    prepare?.();
    run();
  }
  const times: number[] = [];
  const copies: number[] = [];
  for (let i = 0; i < reps; i++) {
    prepare?.();
    const c0 = performance.now();
    copy.set(start);
    const t0 = performance.now();
    run();
    const t1 = performance.now();
    copies.push(t0 - c0);
    times.push(t1 - t0);
  }
  return { ms: median(times), memcpyMs: median(copies) };
}

const rows: ({ what: string } & Timing)[] = [];
const params = new Float32Array(SIZE);
const grads = new Float32Array(SIZE);
const point = new Float32Array(SIZE);

const spare = new Float32Array(SIZE);
rows.push({ what: 'memcpy (Float32Array.prototype.set)', ...measure(() => spare.set(start)) });

/**
 * The plain JavaScript reference of each element-wise optimizer with its default hyper-parameters
 * (the loops `step()` ran before the kernels), as `(t) => one step`, slots allocated here.
 */
const REFERENCES: Record<string, () => (t: number) => void> = {
  sgd: () => () => sgdStep(params, grads, 0.01),
  momentum: () => {
    const delta = new Float32Array(SIZE);
    return () => momentumStep(params, grads, delta, 0.01, 0.9);
  },
  nesterov: () => {
    const delta = new Float32Array(SIZE);
    return () => {
      nesterovLookahead(params, delta, 0.9, point);
      momentumStep(params, grads, delta, 0.01, 0.9);
    };
  },
  adagrad: () => {
    const sum = new Float32Array(SIZE);
    return () => adagradStep(params, grads, sum, 0.01, 1e-8);
  },
  adadelta: () => {
    const [v, q] = [new Float32Array(SIZE), new Float32Array(SIZE)];
    return () => adadeltaStep(params, grads, v, q, 1, 0.9, 1e-6);
  },
  adam: () => {
    const [m, v] = [new Float32Array(SIZE), new Float32Array(SIZE)];
    return (t) => adamStep(params, grads, m, v, t, 0.001, 0.9, 0.999, 1e-8);
  },
  adamw: () => {
    const [m, v] = [new Float32Array(SIZE), new Float32Array(SIZE)];
    return (t) => adamStep(params, grads, m, v, t, 0.001, 0.9, 0.999, 1e-8, 0.01);
  },
  rmsprop: () => {
    const v = new Float32Array(SIZE);
    return () => rmspropStep(params, grads, v, null, 0.001, 0.9, 1e-8, 0);
  },
};

/** One training step's optimizer work on these arrays: look-ahead (Nesterov) + step. */
function stepOn(opt: Optimizer, w: Float32Array, g: Float32Array, at: Float32Array): () => void {
  // Nesterov's look-ahead is a pass the server makes every step, so it is timed with the step.
  return opt.lookahead(w, at)
    ? () => {
        opt.lookahead(w, at);
        opt.step(w, g);
      }
    : () => opt.step(w, g);
}

const configs: OptimizerConfig[] = [
  { name: 'sgd' },
  { name: 'momentum' },
  { name: 'nesterov' },
  { name: 'adagrad' },
  { name: 'adadelta' },
  { name: 'adam' },
  { name: 'adamw' },
  { name: 'rmsprop' },
];
const zeroCopyRows = new Map<string, Timing>();
for (const config of configs) {
  const name = config.name;
  const label = name === 'nesterov' ? 'nesterov (look-ahead + step)' : name;

  const zeroCopy = createOptimizer(config, SIZE);
  const b = zeroCopy.buffers;
  b.params.set(start);
  const timing = measure(stepOn(zeroCopy, b.params, b.grads, b.point), { prepare: () => gradient(b.params, b.grads) });
  zeroCopyRows.set(name, timing);
  rows.push({ what: `${label}: wasm SIMD, zero-copy buffers`, ...timing });

  params.set(start);
  const copying = createOptimizer(config, SIZE);
  rows.push({
    what: `${label}: wasm SIMD, copy in/out`,
    ...measure(stepOn(copying, params, grads, point), { prepare: () => gradient(params, grads) }),
  });

  params.set(start);
  const reference = REFERENCES[name]();
  let t = 0;
  rows.push({
    what: `${label}: plain JS reference (before)`,
    ...measure(() => reference(++t), { prepare: () => gradient(params, grads) }),
  });
}

params.set(start);
const lbfgs = createOptimizer({ name: 'lbfgs' }, SIZE);
rows.push({
  what: 'lbfgs (plain JS)',
  ...measure(() => lbfgs.step(params, grads), {
    prepare: () => gradient(params, grads),
    warmup: (lbfgs.config.history ?? 10) + 2,
  }),
});

params.set(start);
gradient(params, grads);
rows.push({
  what: 'clipByGlobalNorm (norm + scale)',
  ...measure(() => clipByGlobalNorm(grads, 1e-3), { prepare: () => grads.set(start) }),
});
const microBatches = Array.from({ length: 4 }, (_, m) => Float32Array.from(start, (x) => x * (m + 1)));
rows.push({ what: 'meanInOrder of 4 micro-batch gradients', ...measure(() => meanInOrder(microBatches, grads)) });
// The fold a shard runs per push: the JavaScript loop, and the SIMD kernel with the same bits on a
// gradient received elsewhere (copied into its memory) or computed into its `term`.
rows.push({ what: 'fold sum += g: accumulate (plain JS)', ...measure(() => accumulate(grads, start)) });
const sum = new GradientSum(SIZE);
rows.push({ what: 'fold sum += g: GradientSum.add, g copied in', ...measure(() => sum.add(start)) });
sum.term.set(start);
rows.push({ what: 'fold sum += g: GradientSum.add(term)', ...measure(() => sum.add(sum.term)) });
rows.push({ what: 'mean of a whole-step sum: scaleFromZero', ...measure(() => scaleFromZero(grads, start, 1 / 4)) });

const tfRows: ({ backend: string } & Timing)[] = [];
for (const backend of ['cpu', 'wasm'] as const) {
  await initBackend(backend);
  const variable = tf.tidy(() => tf.variable(tf.tensor1d(start)));
  const adam = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  let g: tf.Tensor1D | undefined;
  const slow = backend === 'cpu';
  const timing = measure(() => adam.applyGradients([{ name: variable.name, tensor: g! }]), {
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
  tfRows.push({ backend, ...timing });
  rows.push({ what: `tf.train.adam, ${backend} backend`, ...timing });
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log(`\n${SIZE.toLocaleString('en-US')} parameters, median of ${REPS} calls (tfjs cpu: 3), Node ${process.version}\n`);
console.log(
  formatTable(
    [
      { header: 'operation', cell: (r) => r.what },
      { header: 'ms / call', cell: (r) => fmt(r.ms), align: 'right' },
      { header: 'memcpy ms (same reps)', cell: (r) => fmt(r.memcpyMs), align: 'right' },
      { header: '× memcpy', cell: (r) => formatRatio(r.ms / r.memcpyMs), align: 'right' },
    ],
    rows,
  ),
);

const ours = zeroCopyRows.get('adam')!;
console.log(`\nAdam, zero-copy: ${formatRatio(ours.ms / ours.memcpyMs)} memcpy (target ≤ 4×)`);
for (const { backend, ms } of tfRows) {
  console.log(`Adam, zero-copy: ${formatRatio(ms / ours.ms)} faster than tf.train.adam on ${backend} (target ≥ 3×)`);
}
