import * as tf from '@tensorflow/tfjs-core';
// The oracle below (tf.losses) differentiates through ops whose gradients only this import registers.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { softmaxCrossEntropy } from './loss.js';
import { softmax } from './softmax.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function oneHotOf(labels: number[], k: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), k), 'float32') as tf.Tensor2D);
}

function lossAndGrad(logits: number[][], labels: number[]): { loss: number; grad: number[][] } {
  return tf.tidy(() => {
    const oneHot = oneHotOf(labels, logits[0].length);
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, oneHot))(tf.tensor2d(logits));
    return { loss: value.dataSync()[0], grad: grad.arraySync() as number[][] };
  });
}

describe('softmaxCrossEntropy', () => {
  it('gives the mean loss and (S − one-hot)/N by hand (lecture §5)', () => {
    // Row 0: S([1, 2, 3]) = [0.0900306, 0.2447285, 0.6652410], label 2 → −ln 0.665241 = 0.4076060.
    // Row 1: S([0, 0, 0]) = [1/3, 1/3, 1/3], label 0 → ln 3 = 1.0986123. Mean 0.7531091.
    const { loss, grad } = lossAndGrad(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      [2, 0],
    );
    expect(loss).toBeCloseTo(0.7531091, 6);
    // Row 0: [0.0900306, 0.2447285, 0.6652410 − 1]/2; row 1: [1/3 − 1, 1/3, 1/3]/2.
    const expected = [
      [0.0450153, 0.1223642, -0.1673795],
      [-1 / 3, 1 / 6, 1 / 6],
    ];
    expected.forEach((row, i) => row.forEach((v, j) => expect(grad[i][j]).toBeCloseTo(v, 6)));
  });

  it('matches (softmax − one-hot)/N from the plain-JS softmax on random logits', () => {
    const logits = [
      [0.3, -2, 1.1, 4],
      [2.2, 2.2, -1, 0],
      [-3, 0.5, 0.25, 1],
    ];
    const labels = [3, 0, 2];
    const { grad } = lossAndGrad(logits, labels);
    logits.forEach((row, i) => {
      const s = softmax(row);
      row.forEach((_, j) => expect(grad[i][j]).toBeCloseTo((s[j] - (j === labels[i] ? 1 : 0)) / 3, 6));
    });
  });

  it('stays finite for logits of magnitude 1e4', () => {
    // ln C = −max: shifted logits [0, −1e4, −2e4], Σ e^… = 1 in float32, so loss = 1e4 − 0 = 1e4;
    // S = [1, 0, 0] and the gradient is [1 − 0, 0 − 1, 0] / 1. A naive e^{1e4} would be Infinity.
    const { loss, grad } = lossAndGrad([[1e4, 0, -1e4]], [1]);
    expect(loss).toBe(1e4);
    expect(grad).toEqual([[1, -1, 0]]);
  });

  it('agrees with tf.losses.softmaxCrossEntropy in value and gradient', () => {
    const logits = tf.tensor2d([
      [0.5, -1, 2, 0.1, -0.3],
      [3, 1, -2, 0, 0.7],
    ]);
    const oneHot = oneHotOf([2, 4], 5);
    const ours = tf.valueAndGrad((z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, oneHot))(logits);
    const theirs = tf.valueAndGrad((z: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, z) as tf.Scalar)(logits);
    expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0], 6);
    const [a, b] = [ours.grad.dataSync(), theirs.grad.dataSync()];
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 6));
  });

  it('leaks no tensors', () => {
    const logits = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const oneHot = oneHotOf([0, 1], 2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, oneHot))(logits);
      tf.dispose([value, grad]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
