/**
 * Exploding gradients made visible (lecture §3), and Fixup (Zhang et al. 2019) curing them without
 * normalization: a residual network of 32 dense blocks, width 16, trained by plain SGD on one
 * generated batch, once with `norm: 'fixup'` and once with `norm: 'none'` (He initialisation, no
 * normalization). Measured on the cpu backend (numbers in the comments, also in README.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { updateWeightRatios } from './layer-norms.js';
import { createModel } from './model.js';
import type { Batch, GradientResult, Model } from './model.js';
import type { NormKind } from './model-config.js';
import { seededValues } from './test-fixtures.js';

const FEATURES = 16;
const CLASSES = 4;
const SAMPLES = 64;
const BLOCKS = 32;
const LR = 0.1;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Unit-variance inputs labelled by a fixed random linear teacher (argmax of x·T). */
function teacherBatch(): Batch {
  const teacher = seededValues(FEATURES * CLASSES, 5);
  const x = seededValues(SAMPLES * FEATURES, 6).map((v) => v * Math.sqrt(3));
  const y = Int32Array.from({ length: SAMPLES }, (_, n) => {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < CLASSES; k++) {
      let z = 0;
      for (let i = 0; i < FEATURES; i++) z += x[n * FEATURES + i] * teacher[i * CLASSES + k];
      if (z > bestScore) [best, bestScore] = [k, z];
    }
    return best;
  });
  return { x, y, count: SAMPLES };
}

function deepResnet(norm: NormKind): Model {
  return createModel({ name: 'resnet', inputShape: [FEATURES], numClasses: CLASSES, blocks: BLOCKS, width: 16, norm });
}

interface Trace {
  losses: number[];
  /** Per step: the gradient result and the update/weight ratio of each tensor. */
  steps: { result: GradientResult; ratios: Float64Array }[];
}

function train(model: Model, steps: number): Trace {
  const batch = teacherBatch();
  const params = model.init(1);
  const trace: Trace = { losses: [], steps: [] };
  for (let s = 0; s < steps; s++) {
    const result = model.computeGradients(params, batch);
    const before = params.slice();
    for (let i = 0; i < params.length; i++) params[i] -= LR * result.grads[i];
    trace.losses.push(result.loss);
    trace.steps.push({ result, ratios: updateWeightRatios(before, params, model.paramSpecs) });
  }
  return trace;
}

function norm(model: Model, result: GradientResult, name: string): number {
  return result.layerGradNorms[model.paramSpecs.findIndex((s) => s.name === name)];
}

function ratio(model: Model, ratios: Float64Array, name: string): number {
  return ratios[model.paramSpecs.findIndex((s) => s.name === name)];
}

describe(`a ${BLOCKS}-block residual network without batch norm`, () => {
  it('trains with Fixup: loss falls from ln 4 to well under half of it in 40 SGD steps', () => {
    const model = deepResnet('fixup');
    const { losses, steps } = train(model, 40);
    // Measured: loss 1.3863 (= ln 4: the zero classifier gives uniform softmax) at step 0,
    // 1.1391 at step 10, 0.9445 at 20, 0.7550 at 30, 0.5856 at 39, falling at every step.
    expect(losses[0]).toBeCloseTo(Math.log(CLASSES), 5);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[39]).toBeLessThan(0.5 * losses[0]);
    for (let s = 1; s < 40; s++) expect(losses[s]).toBeLessThan(losses[s - 1]);
    // Gradient norms at step 10 stay within a few orders of magnitude of each other and of 1:
    // stem 1.0e−1, block0/dense0 5.7e−4, block31/dense0 5.3e−4, classifier 4.1e−1 — first and
    // last block alike, so depth neither explodes nor vanishes them.
    const at10 = steps[10].result;
    const [first, last] = [norm(model, at10, 'block0/dense0/kernel'), norm(model, at10, 'block31/dense0/kernel')];
    expect(first / last).toBeGreaterThan(0.1);
    expect(first / last).toBeLessThan(10);
    expect(norm(model, at10, 'stem/kernel')).toBeLessThan(1);
    // Update/weight ratios at step 10 (SGD, lr 0.1): stem 1.8e−3, block0/dense0 5.8e−5,
    // block31/dense0 5.3e−5, classifier 8.6e−2 (the rule of thumb for healthy training is ~1e−3).
    const r = steps[10].ratios;
    expect(ratio(model, r, 'stem/kernel')).toBeLessThan(1e-1);
    expect(ratio(model, r, 'block0/dense0/kernel')).toBeLessThan(1e-1);
  });

  it('explodes with plain He initialisation: a huge first loss, huge gradients, NaN after one step', () => {
    const model = deepResnet('none');
    const { losses, steps } = train(model, 2);
    // Each block adds a branch of about its input's variance, so the variance roughly doubles
    // per block: logits of order 2^16 after 32 blocks. Measured: loss 1.939e5 at step 0 (ln 4 =
    // 1.386 would be chance level), gradient norms stem 1.2e5, block0/dense0 1.9e5, block31/dense0
    // 4.3e5, classifier 6.2e5 (six orders of magnitude above Fixup's), update/weight ratio of the
    // stem 2.2e3 and of block31/dense0 7.7e3 (the step is thousands of times the weights). Step 1's loss is NaN, and so it is
    // with learning rates down to 1e−5 (8.6e6 at step 1, NaN at step 2).
    expect(losses[0]).toBeGreaterThan(1e4);
    expect(norm(model, steps[0].result, 'stem/kernel')).toBeGreaterThan(1e4);
    expect(norm(model, steps[0].result, 'block31/dense0/kernel')).toBeGreaterThan(1e4);
    expect(ratio(model, steps[0].ratios, 'stem/kernel')).toBeGreaterThan(100);
    expect(Number.isNaN(losses[1]) || losses[1] > losses[0]).toBe(true);
  });
});
