import * as tf from '@tensorflow/tfjs-core';
// The oracle differentiates tf.moments and plain arithmetic, which needs all gradients registered.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormEval, batchNormTrain } from './batch-norm.js';

const EPS = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Seeded values in [−2, 2) for test tensors. */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

describe('batchNormTrain (Ioffe & Szegedy, Algorithm 1)', () => {
  it('normalizes [1, 2, 3, 4] by hand and reports μ and the biased σ²', () => {
    // μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25; x̂ = (x − 2.5)/√1.25001
    // = [−1.3416354, −0.4472118, 0.4472118, 1.3416354]; y = 2x̂ + 0.5.
    const r = batchNormTrain(tf.tensor2d([[1], [2], [3], [4]]), tf.tensor1d([2]), tf.tensor1d([0.5]), EPS);
    const y = r.y.dataSync();
    [-2.1832708, -0.3944236, 1.3944236, 3.1832708].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
    expect(r.mean.dataSync()[0]).toBe(2.5);
    expect(r.variance.dataSync()[0]).toBe(1.25);
    tf.dispose([r.y, r.mean, r.variance]);
  });

  for (const shape of [
    [6, 3],
    [2, 3, 4, 2],
  ]) {
    it(`has the gradients of autodiff through the formula, for x of shape [${shape.join(', ')}]`, () => {
      const channels = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      const axes = shape.length === 4 ? [0, 1, 2] : [0];
      const x = tf.tensor(values(size, 1), shape);
      const gamma = tf.tensor1d(values(channels, 2));
      const beta = tf.tensor1d(values(channels, 3));
      const w = tf.tensor(values(size, 4), shape); // loss = Σ y·w gives every output its own weight
      const kept: tf.Tensor[] = [];
      const ours = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = batchNormTrain(xi, g as tf.Tensor1D, b as tf.Tensor1D, EPS);
        kept.push(r.mean, r.variance);
        return tf.sum(tf.mul(r.y, w));
      })([x, gamma, beta]);
      const oracle = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xi, axes);
        const y = tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, EPS))), g), b);
        return tf.sum(tf.mul(y, w));
      })([x, gamma, beta]);
      ours.forEach((g, k) => {
        const [a, b] = [g.dataSync(), oracle[k].dataSync()];
        expect(a.length).toBe(b.length);
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
      });
      // ∂x is orthogonal, per channel, to the constants and to x̂: Σ ∂x = 0 (shifting x changes
      // nothing) and Σ ∂x·x̂ = 0 (scaling x changes nothing).
      const dxSum = tf.sum(ours[0], axes);
      dxSum.dataSync().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
      tf.dispose([x, gamma, beta, w, dxSum, ...ours, ...oracle, ...kept]);
    });
  }

  it('leaks nothing beyond the moments the caller owns', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([
      [1, 2],
      [3, 5],
      [0, 1],
    ]);
    const [g, b] = [tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D];
    const r = batchNormTrain(x, g, b, EPS);
    tf.dispose([x, g, b, r.y, r.mean, r.variance]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('batchNormEval', () => {
  it('uses the supplied running statistics, by hand', () => {
    // γ(x − 2)/√(4 + 1e−5) + β with γ = 2, β = 0.5: [−0.4999988, 0.5, 1.4999988, 2.4999975].
    const y = batchNormEval(tf.tensor2d([[1], [2], [3], [4]]), tf.tensor1d([2]), tf.tensor1d([0.5]), tf.tensor1d([2]), tf.tensor1d([4]), EPS);
    [-0.4999988, 0.5, 1.4999988, 2.4999975].forEach((v, i) => expect(y.dataSync()[i]).toBeCloseTo(v, 6));
  });
});
