// TensorFlow.js as an independent oracle: its optimizers (float32 ops, one kernel per operation) run
// beside ours on the same gradients, with the settings under which the two definitions agree.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import type { Optimizer, OptimizerConfig } from './types.js';
import { maxRelativeError, seededRandom } from './test-support.js';

const SIZE = 1000;
const STEPS = 100;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Tensors alive before each test; every test must release all it creates (see `expectReleased`). */
let baseline = 0;
beforeEach(() => {
  baseline = tf.memory().numTensors;
});

/**
 * tfjs 4.22's MomentumOptimizer.dispose() frees its γ and accumulators but not the −α scalar of
 * its SGD base class: one tensor per instance that no caller can free.
 */
function expectReleased(momentumOptimizers = 0): void {
  expect(tf.memory().numTensors).toBe(baseline + momentumOptimizers);
}

/**
 * Parameters drawn with |w| in [0.5, 1.5) so that none crosses zero in 100 small steps and a
 * relative error stays meaningful; gradients uniform in (−1, 1), the same for both sides.
 */
function start(seed: number): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: SIZE }, () => (rng() < 0.5 ? -1 : 1) * (0.5 + rng()));
}

/**
 * Runs both optimizers for STEPS steps. `gradient(point, t, out)` gives the gradient at a point;
 * ours takes it at its look-ahead point. Returns our parameters (or look-ahead points with
 * `compareLookahead`), the oracle's, and the tensor counts after the first and the last step.
 */
function race(
  ours: Optimizer,
  oracle: (variable: tf.Variable, grads: tf.Tensor1D) => void,
  gradient: (point: Float32Array, t: number, out: Float32Array) => void,
  { compareLookahead = false } = {},
) {
  const params = start(1);
  const variable = tf.tidy(() => tf.variable(tf.tensor1d(params.slice())));
  const point = new Float32Array(SIZE);
  const grads = new Float32Array(SIZE);
  let tensorsAfterFirst = -1;
  for (let t = 0; t < STEPS; t++) {
    const at = ours.lookahead(params, point) ? point : params;
    gradient(at, t, grads);
    ours.step(params, grads);

    gradient(variable.dataSync() as Float32Array, t, grads);
    tf.tidy(() => oracle(variable, tf.tensor1d(grads.slice())));
    if (t === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  const tensorsAfterLast = tf.memory().numTensors;
  const theirs = Float32Array.from(variable.dataSync());
  variable.dispose();
  const compared = compareLookahead && ours.lookahead(params, point) ? point : params;
  return { ours: compared, theirs, tensorsAfterFirst, tensorsAfterLast, params };
}

/** Uniform(−1, 1) gradients from a per-step seed, independent of the point. */
function randomGradient(point: Float32Array, t: number, out: Float32Array): void {
  const rng = seededRandom(1000 + t);
  for (let i = 0; i < point.length; i++) out[i] = 2 * rng() - 1;
}

/** Built outside any tidy(): tf.train.momentum's γ scalar would otherwise be disposed with it. */
function withTfOptimizer(make: () => tf.Optimizer) {
  const optimizer = make();
  const apply = (variable: tf.Variable, grads: tf.Tensor1D) => optimizer.applyGradients({ [variable.name]: grads });
  return { apply, dispose: () => optimizer.dispose() };
}

function expectParity(
  config: OptimizerConfig,
  make: () => tf.Optimizer,
  { prepare, momentumOptimizers = 0 }: { prepare?: (opt: Optimizer) => void; momentumOptimizers?: number } = {},
) {
  const ours = createOptimizer(config, SIZE);
  prepare?.(ours);
  const oracle = withTfOptimizer(make);
  const result = race(ours, oracle.apply, randomGradient);
  oracle.dispose();
  expect(result.tensorsAfterLast).toBe(result.tensorsAfterFirst);
  expectReleased(momentumOptimizers);
  expect(maxRelativeError(result.ours, result.theirs)).toBeLessThanOrEqual(1e-5);
  // The runs moved the parameters well beyond that tolerance, so agreement is not trivial.
  expect(maxRelativeError(result.ours, start(1))).toBeGreaterThan(1e-2);
}

describe('parity with TensorFlow.js optimizers (cpu backend, 100 steps, 1000 parameters)', () => {
  it('backend ε is 1e-7, the value tfjs uses where ε is not given', () => {
    expect(tf.backend().epsilon()).toBe(1e-7);
  });

  it('sgd = tf.train.sgd', () => {
    expectParity({ name: 'sgd', lr: 0.01 }, () => tf.train.sgd(0.01));
  });

  it('momentum = tf.train.momentum for a constant α (accumulator form, same iterates)', () => {
    // γ = 0.9 amplifies steps tenfold; α = 0.002 keeps every weight away from zero.
    expectParity({ name: 'momentum', lr: 0.002, momentum: 0.9 }, () => tf.train.momentum(0.002, 0.9), {
      momentumOptimizers: 1,
    });
  });

  it('nesterov look-ahead points = the iterates of tf.train.momentum(α, γ, useNesterov = true)', () => {
    // J(w) = Σ ½a_i(w_i − c_i)², so the gradient depends on the point where it is taken; each
    // minimum c_i has the sign of the start w_i and |c_i| ≥ 1, so no weight comes near zero.
    const rng = seededRandom(5);
    const w0 = start(1);
    const a = Float32Array.from({ length: SIZE }, () => 0.5 + rng());
    const c = Float32Array.from(w0, (w) => Math.sign(w) * (1 + rng()));
    const quadratic = (point: Float32Array, _t: number, out: Float32Array) => {
      for (let i = 0; i < SIZE; i++) out[i] = a[i] * (point[i] - c[i]);
    };
    const ours = createOptimizer({ name: 'nesterov', lr: 0.01, momentum: 0.9 }, SIZE);
    const oracle = withTfOptimizer(() => tf.train.momentum(0.01, 0.9, true));
    const result = race(ours, oracle.apply, quadratic, { compareLookahead: true });
    oracle.dispose();
    expect(result.tensorsAfterLast).toBe(result.tensorsAfterFirst);
    expectReleased(1);
    expect(maxRelativeError(result.ours, result.theirs)).toBeLessThanOrEqual(1e-5);
    // Our w(k) itself is another sequence, far outside the agreement above.
    expect(maxRelativeError(result.params, result.theirs)).toBeGreaterThan(1e-4);
  });

  it('adagrad = tf.train.adagrad given its G(0) = 0.1 and its ε = 1e-7 inside the root', () => {
    expectParity({ name: 'adagrad', lr: 0.05, eps: 1e-7 }, () => tf.train.adagrad(0.05), {
      prepare: (opt) => opt.load({ ...opt.state(), slots: { gradSquareSum: new Float32Array(SIZE).fill(0.1) } }),
    });
  });

  it('adam = tf.train.adam with ε = 1e-8 passed explicitly', () => {
    // tfjs keeps γ1^k and γ2^k as float32 running products: 1 − γ2^k is off by up to ~1e-5 relative
    // in the first steps (this code uses doubles), an error that grows with α; α = 0.001 (the
    // default of both) keeps it well inside the tolerance (α = 0.01 gives ~1e-5).
    expectParity({ name: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, () => tf.train.adam(0.001, 0.9, 0.999, 1e-8));
  });

  it('rmsprop = tf.train.rmsprop (not centered), ε inside the root, with and without momentum', () => {
    expectParity({ name: 'rmsprop', lr: 0.001, rho: 0.9, eps: 1e-7 }, () => tf.train.rmsprop(0.001, 0.9, 0, 1e-7));
    expectParity({ name: 'rmsprop', lr: 0.001, rho: 0.9, eps: 1e-7, momentum: 0.9 }, () => tf.train.rmsprop(0.001, 0.9, 0.9, 1e-7));
  });

  it("adadelta = Zeiler's rule written in tfjs ops (tf.train.adadelta divides by the previous average)", () => {
    const rho = 0.9;
    const eps = 1e-6;
    let v: tf.Variable | undefined;
    let q: tf.Variable | undefined;
    const zeiler = (variable: tf.Variable, g: tf.Tensor1D) => {
      v ??= tf.variable(tf.zerosLike(variable), false);
      q ??= tf.variable(tf.zerosLike(variable), false);
      const vNew = tf.add(tf.mul(v, rho), tf.mul(tf.square(g), 1 - rho));
      const delta = tf.mul(tf.div(tf.sqrt(tf.add(q, eps)), tf.sqrt(tf.add(vNew, eps))), g);
      q.assign(tf.add(tf.mul(q, rho), tf.mul(tf.square(delta), 1 - rho)));
      v.assign(vNew);
      variable.assign(tf.sub(variable, delta));
    };
    const ours = createOptimizer({ name: 'adadelta', lr: 1, rho, eps }, SIZE);
    const result = race(ours, zeiler, randomGradient);
    v!.dispose();
    q!.dispose();
    expect(result.tensorsAfterLast).toBe(result.tensorsAfterFirst);
    expectReleased();
    expect(maxRelativeError(result.ours, result.theirs)).toBeLessThanOrEqual(1e-5);
  });

  it('tf.train.adadelta differs: its first step is α·g, ours −√ε/√((1−ρ)g² + ε)·g', () => {
    const theirs = tf.tidy(() => tf.variable(tf.tensor1d([0])));
    const opt = tf.train.adadelta(1, 0.9, 1e-6);
    tf.tidy(() => opt.applyGradients([{ name: theirs.name, tensor: tf.tensor1d([1]) }]));
    expect(theirs.dataSync()[0]).toBeCloseTo(-1, 6);
    opt.dispose();
    theirs.dispose();
    expectReleased();
    const ours = createOptimizer({ name: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6 }, 1);
    const w = Float32Array.of(0);
    ours.step(w, Float32Array.of(1));
    expect(w[0]).toBeCloseTo(-1e-3 / Math.sqrt(0.100001), 8);
  });
});
