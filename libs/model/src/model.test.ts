import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { updateRunningStats } from './bn-stats.js';
import { flattenParams, unflattenParams } from './flat-params.js';
import { createModel } from './model.js';
import type { Model } from './model.js';
import { ModelError } from './model-error.js';
import { directionalDerivative, seededBatch, seededValues, TINY, unitDirection } from './test-fixtures.js';

// No `register_all_gradients` import here on purpose: the model must work with the gradients it
// registers itself (tf-gradients.ts), as it does under tsx.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function names(model: Model): string[] {
  return model.paramSpecs.map((s) => s.name);
}

describe('parameter layout', () => {
  it('mlp 784-256-128-10: 235,146 parameters in stable order', () => {
    const m = createModel({ name: 'mlp' });
    // 784·256 = 200,704; +256; +256·128 = 32,768; +128; +128·10 = 1,280; +10 → 235,146.
    expect(m.paramSpecs.map((s) => [s.name, s.shape, s.offset, s.size])).toEqual([
      ['dense0/kernel', [784, 256], 0, 200704],
      ['dense0/bias', [256], 200704, 256],
      ['dense1/kernel', [256, 128], 200960, 32768],
      ['dense1/bias', [128], 233728, 128],
      ['dense2/kernel', [128, 10], 233856, 1280],
      ['dense2/bias', [10], 235136, 10],
    ]);
    expect(m.paramCount).toBe(235146);
    expect(m.bnSpecs).toEqual([]);
    expect(m.config).toEqual({ name: 'mlp', inputShape: [28, 28, 1], numClasses: 10, hidden: [256, 128], bnEpsilon: 1e-5 });
  });

  it('cnn [16, 32] on 28×28×1: 20,538 parameters, two batch-norm layers', () => {
    const m = createModel({ name: 'cnn' });
    // conv0 3·3·1·16 = 144; bn0 2·16 = 32; conv1 3·3·16·32 = 4,608; bn1 2·32 = 64;
    // 28 → 14 → 7, dense0 7·7·32·10 = 15,680 + 10 → 20,538 (< 100k).
    expect(names(m)).toEqual(['conv0/kernel', 'bn0/gamma', 'bn0/beta', 'conv1/kernel', 'bn1/gamma', 'bn1/beta', 'dense0/kernel', 'dense0/bias']);
    expect(m.paramCount).toBe(20538);
    expect(m.bnSpecs).toEqual([
      { name: 'bn0', channels: 16, offset: 0 },
      { name: 'bn1', channels: 32, offset: 32 },
    ]);
    expect(m.bnStateSize).toBe(96);
    // Running statistics start at mean 0, variance 1: [0 ×16, 1 ×16, 0 ×32, 1 ×32].
    const s = m.initBnState();
    expect([s[15], s[16], s[31], s[32], s[63], s[64], s[95]]).toEqual([0, 1, 1, 0, 0, 1, 1]);
  });

  it('resnet: counts for each norm, Fixup names in the paper order', () => {
    // Width 16, 3 blocks, 28×28×1. batchnorm: stem 144 + bn 32; block 2·(2,304 + 32) = 4,672;
    // head 16·10 + 10 = 170 → 176 + 14,016 + 170 = 14,362; 7 BN layers of 16 → 224 values.
    const bn = createModel({ name: 'resnet' });
    expect([bn.paramCount, bn.bnSpecs.length, bn.bnStateSize]).toEqual([14362, 7, 224]);
    // none: stem 144 + 16; block 2·(2,304 + 16) = 4,640; head 170 → 14,250.
    expect(createModel({ name: 'resnet', norm: 'none' }).paramCount).toBe(14250);
    // fixup: stem 144 + 1; block 2·2,304 + 5 scalars = 4,613; head 1 + 160 + 10 → 14,155.
    const fixup = createModel({ name: 'resnet', norm: 'fixup' });
    expect(fixup.paramCount).toBe(14155);
    expect(fixup.bnStateSize).toBe(0);
    expect(names(fixup).slice(0, 9)).toEqual([
      'stem/kernel',
      'stem/fixup_bias',
      'block0/fixup_bias1a',
      'block0/conv0/kernel',
      'block0/fixup_bias1b',
      'block0/fixup_bias2a',
      'block0/conv1/kernel',
      'block0/fixup_scale',
      'block0/fixup_bias2b',
    ]);
    expect(names(fixup).slice(-3)).toEqual(['logits/fixup_bias', 'logits/kernel', 'logits/bias']);
    expect(names(createModel(TINY['resnet dense batchnorm']))).toContain('block1/dense0/kernel');
  });

  it('flattens and unflattens by name', () => {
    const m = createModel(TINY.mlp);
    const p = m.init(3);
    const views = unflattenParams(p, m.paramSpecs);
    expect([...views.keys()]).toEqual(names(m));
    expect(views.get('dense1/kernel')!.length).toBe(12);
    expect(flattenParams(views, m.paramSpecs)).toEqual(p);
    expect(() => flattenParams({ 'dense0/kernel': new Float32Array(20) }, m.paramSpecs)).toThrow(/"dense0\/bias" .* is missing/);
    expect(() => flattenParams({ nope: [] }, m.paramSpecs)).toThrow(/"nope" is not a parameter/);
  });
});

describe('init', () => {
  it('is a function of the seed alone', () => {
    const m = createModel(TINY.cnn);
    const a = m.init(42);
    expect(Buffer.from(a.buffer).equals(Buffer.from(createModel(TINY.cnn).init(42).buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(m.init(43).buffer))).toBe(false);
    expect(() => m.init(-3)).toThrow(expect.objectContaining({ code: 'E_MODEL_SEED' }));
  });

  it('uses He for ReLU layers, Glorot for the classifier, γ = 1, β = 0, zero biases', () => {
    const m = createModel({ name: 'cnn', inputShape: [8, 8, 1], channels: [4], numClasses: 2 });
    const v = unflattenParams(m.init(1), m.paramSpecs);
    const maxAbs = (a: Float32Array): number => a.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
    // conv0: fanIn 9 → He limit √(6/9) = 0.8165; 36 draws reach at least half of it.
    expect(maxAbs(v.get('conv0/kernel')!)).toBeLessThanOrEqual(Math.sqrt(6 / 9));
    expect(maxAbs(v.get('conv0/kernel')!)).toBeGreaterThan(0.4);
    // dense0: 4·4·4 = 64 → 2, Glorot limit √(6/66) = 0.3015.
    expect(maxAbs(v.get('dense0/kernel')!)).toBeLessThanOrEqual(Math.sqrt(6 / 66));
    expect([...v.get('bn0/gamma')!, ...v.get('bn0/beta')!, ...v.get('dense0/bias')!]).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('follows Fixup: last branch layers and classifier at zero, scale 1, first branch layers He·L^(−1/2)', () => {
    const blocks = 4;
    const m = createModel({ name: 'resnet', inputShape: [4, 4, 1], numClasses: 3, blocks, width: 8, norm: 'fixup' });
    const v = unflattenParams(m.init(5), m.paramSpecs);
    const he = Math.sqrt(6 / (9 * 8)); // fanIn 3·3·8 = 72 → 0.2887
    for (let i = 0; i < blocks; i++) {
      const k0 = v.get(`block${i}/conv0/kernel`)!;
      const maxAbs = k0.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
      // L^(−1/(2m−2)) = 4^(−1/2) = 0.5: limit 0.1443; 576 draws come within 1 % of it.
      expect(maxAbs).toBeLessThanOrEqual(Math.fround(he * 0.5));
      expect(maxAbs).toBeGreaterThan(he * 0.5 * 0.99);
      expect(v.get(`block${i}/conv1/kernel`)!.every((x) => x === 0)).toBe(true);
      expect([...v.get(`block${i}/fixup_scale`)!, ...v.get(`block${i}/fixup_bias1a`)!]).toEqual([1, 0]);
    }
    expect(v.get('logits/kernel')!.every((x) => x === 0)).toBe(true);
  });
});

describe('computeGradients', () => {
  for (const [label, config] of Object.entries(TINY)) {
    it(`${label}: the gradient matches central differences of the loss`, () => {
      const m = createModel(config);
      // Perturb the initial point so that Fixup's zero layers are active too.
      const p = m.init(7).map((w, i) => w + 0.3 * seededValues(m.paramCount, 99)[i]);
      const batch = seededBatch(m, 6, 3);
      for (const seed of [1, 2]) {
        const { analytic, numeric } = directionalDerivative(m, p, batch, unitDirection(m.paramCount, seed), 1e-3);
        // Float32 losses of order 1 carry ~1e−7 noise; divided by 2ε that is ~1e−4.
        expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 1e-2 * Math.abs(analytic));
        expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      }
    });
  }

  it('gives identical bytes for identical inputs, and writes into `out` when given', () => {
    const m = createModel(TINY['resnet conv batchnorm']);
    const p = m.init(1);
    const batch = seededBatch(m, 5, 2);
    const a = m.computeGradients(p, batch);
    const out = new Float32Array(m.paramCount);
    const b = m.computeGradients(p, batch, out);
    expect(b.grads).toBe(out);
    expect(Buffer.from(a.grads.buffer).equals(Buffer.from(b.grads.buffer))).toBe(true);
    expect(b.loss).toBe(a.loss);
    a.bnStats.forEach((s, l) => {
      expect(Buffer.from(s.mean.buffer).equals(Buffer.from(b.bnStats[l].mean.buffer))).toBe(true);
      expect(Buffer.from(s.variance.buffer).equals(Buffer.from(b.bnStats[l].variance.buffer))).toBe(true);
    });
  });

  it('Fixup at initialisation: loss ln K and only the classifier gets a gradient (by hand)', () => {
    const m = createModel(TINY['resnet dense fixup']);
    const batch = { ...seededBatch(m, 4, 1), y: Int32Array.from([0, 0, 1, 2]) };
    const r = m.computeGradients(m.init(3), batch);
    // The classifier is zero, so every logit is 0: S = [1/3, 1/3, 1/3] and loss = ln 3 = 1.0986123.
    expect(r.loss).toBeCloseTo(Math.log(3), 6);
    // ∂L/∂logits/bias = mean(S − one-hot) = 1/3 − [2/4, 1/4, 1/4] = [−1/6, 1/12, 1/12].
    const v = unflattenParams(r.grads, m.paramSpecs);
    [-1 / 6, 1 / 12, 1 / 12].forEach((g, k) => expect(v.get('logits/bias')![k]).toBeCloseTo(g, 6));
    // ∂L/∂h = W_logitsᵀ(…) = 0 with W_logits = 0, so nothing below the classifier moves yet.
    m.paramSpecs.forEach((s, t) => {
      const expectNonZero = s.name === 'logits/kernel' || s.name === 'logits/bias';
      expect(r.layerGradNorms[t] > 0, s.name).toBe(expectNonZero);
    });
  });

  it('reports per-layer gradient norms as the L2 norm of each tensor slice', () => {
    const m = createModel(TINY.mlp);
    const r = m.computeGradients(m.init(1), seededBatch(m, 4, 1));
    expect(r.layerGradNorms.length).toBe(m.paramSpecs.length);
    const bias = unflattenParams(r.grads, m.paramSpecs).get('dense2/bias')!;
    expect(r.layerGradNorms[5]).toBeCloseTo(Math.hypot(...bias), 12);
  });

  it('reports batch-norm moments: count per channel, μ and the biased σ² of the normalised values', () => {
    const m = createModel(TINY['resnet dense batchnorm']);
    const p = m.init(2);
    const batch = seededBatch(m, 6, 4);
    const r = m.computeGradients(p, batch);
    // The stem's BN normalises x·W_stem ([6, 5]·[5, 4]); recompute it in double precision.
    const w = unflattenParams(p, m.paramSpecs).get('stem/kernel')!;
    for (let c = 0; c < 4; c++) {
      const col = Array.from({ length: 6 }, (_, n) => {
        let z = 0;
        for (let i = 0; i < 5; i++) z += batch.x[n * 5 + i] * w[i * 4 + c];
        return z;
      });
      const mean = col.reduce((a, b) => a + b, 0) / 6;
      const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
      expect(r.bnStats[0].mean[c]).toBeCloseTo(mean, 5);
      expect(r.bnStats[0].variance[c]).toBeCloseTo(variance, 5);
    }
    expect(r.bnStats.map((s) => s.count)).toEqual([6, 6, 6, 6, 6]);
    // Convolutional BN counts every position: 4 samples × 6×6 then × 3×3.
    const cnn = createModel(TINY.cnn);
    expect(cnn.computeGradients(cnn.init(1), seededBatch(cnn, 4, 1)).bnStats.map((s) => s.count)).toEqual([144, 36]);
  });

  it('leaks no tensors over repeated calls', () => {
    for (const config of Object.values(TINY)) {
      const m = createModel(config);
      const p = m.init(1);
      const batch = seededBatch(m, 3, 1);
      m.computeGradients(p, batch);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        m.computeGradients(p, batch);
        m.evaluate(p, m.initBnState(), batch);
      }
      expect(tf.memory().numTensors, config.name).toBe(before);
    }
  });
});

describe('evaluate', () => {
  it('sums per-sample losses and counts correct argmaxes (hand-derived logistic regression)', () => {
    const m = createModel({ name: 'mlp', inputShape: [3], numClasses: 3, hidden: [] });
    // Identity kernel and zero bias: the logits are the inputs.
    const p = flattenParams({ 'dense0/kernel': [1, 0, 0, 0, 1, 0, 0, 0, 1], 'dense0/bias': [0, 0, 0] }, m.paramSpecs);
    const batch = { x: Float32Array.from([1, 2, 3, 0, 0, 0, 5, 1, 1]), y: Int32Array.from([2, 0, 1]), count: 3 };
    // −ln S([1,2,3])₂ = 0.4076060; ln 3 = 1.0986123; lse([5,1,1]) − 1 = 5 + ln(1 + 2e^−4) − 1 = 4.0359762.
    // Argmaxes 2, 0 (first of a tie), 0 → two correct.
    const r = m.evaluate(p, m.initBnState(), batch);
    expect(r.lossSum).toBeCloseTo(0.407606 + 1.0986123 + 4.0359762, 6);
    expect([r.correct, r.count]).toEqual([2, 3]);
  });

  for (const label of ['cnn', 'resnet conv batchnorm']) {
    it(`${label}: with the batch's own statistics as running statistics it reproduces the training loss`, () => {
      const m = createModel(TINY[label]);
      const p = m.init(4);
      const batch = seededBatch(m, 5, 6);
      const train = m.computeGradients(p, batch);
      // Momentum 1 and no n/(n−1): the running statistics become exactly μ_B and σ²_B.
      const running = m.initBnState();
      updateRunningStats(running, m.bnSpecs, train.bnStats, { momentum: 1, unbiased: false });
      const evaluated = m.evaluate(p, running, batch);
      expect(evaluated.lossSum / evaluated.count).toBeCloseTo(train.loss, 4);
      // With the initial statistics (0, 1) instead, the activations are not normalised: a different loss.
      const raw = m.evaluate(p, m.initBnState(), batch);
      expect(Math.abs(raw.lossSum / raw.count - train.loss)).toBeGreaterThan(1e-3);
    });
  }
});

describe('errors', () => {
  const m = createModel(TINY.mlp);
  const p = m.init(1);
  const batch = seededBatch(m, 2, 1);
  const code = (c: string): unknown => expect.objectContaining({ code: c });

  it('rejects bad configs naming the field and the fix', () => {
    expect(() => createModel({ name: 'vgg' as 'mlp' })).toThrow(/model name "vgg" is unknown; use one of mlp, cnn, resnet/);
    expect(() => createModel({ name: 'cnn', hidden: [3] })).toThrow(/hidden applies to the mlp model only, not to cnn/);
    expect(() => createModel({ name: 'cnn', inputShape: [784] })).toThrow(/image inputShape/);
    expect(() => createModel({ name: 'cnn', inputShape: [6, 6, 1], channels: [2, 2, 2] })).toThrow(/at least 8×8/);
    expect(() => createModel({ name: 'mlp', numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2, got 1/);
    expect(() => createModel({ name: 'resnet', norm: 'layernorm' as 'none' })).toThrow(/norm "layernorm" is unknown/);
    expect(() => createModel({ name: 'resnet', blocks: 0 })).toThrow(/blocks must be a positive integer, got 0/);
    expect(() => createModel({ name: 'mlp', inputShape: [] })).toThrow(code('E_MODEL_CONFIG'));
  });

  it('rejects mismatched vectors and batches', () => {
    expect(() => m.computeGradients(p.subarray(1), batch)).toThrow(/parameter vector has 50 values but the model has 51/);
    expect(() => m.computeGradients(p, batch, new Float32Array(3))).toThrow(code('E_MODEL_PARAMS'));
    expect(() => m.computeGradients(p, { ...batch, count: 3 })).toThrow(/batch x has 10 values but count 3 × input \[5\] needs 15/);
    expect(() => m.computeGradients(p, { ...batch, y: Int32Array.from([0]) })).toThrow(code('E_MODEL_BATCH'));
    expect(() => m.computeGradients(p, { ...batch, y: Int32Array.from([0, 3]) })).toThrow(/label 3 of sample 1 is outside \[0, 3\)/);
    expect(() => m.evaluate(p, new Float32Array(2), batch)).toThrow(code('E_MODEL_BN_STATE'));
    const errors = [() => m.computeGradients(p, { ...batch, count: 0 })];
    for (const f of errors) expect(f).toThrow(ModelError);
  });

  it('refuses use after dispose', () => {
    const d = createModel(TINY.mlp);
    d.dispose();
    expect(() => d.computeGradients(p, batch)).toThrow(code('E_MODEL_DISPOSED'));
  });
});
