import { describe, expect, it } from 'vitest';
import type { Split } from './dataset-types.js';
import { gather } from './gather.js';
import { makeSyntheticDataset } from './synthetic.js';

/** Nearest class mean (fitted on train) accuracy on test: a learner with no shared code. */
function nearestCentroidAccuracy(train: Split, test: Split, numClasses: number): number {
  const { x: trainX, y: trainY } = gather(
    train,
    Uint32Array.from({ length: train.count }, (_, i) => i),
  );
  const f = train.features;
  const centroids = new Float64Array(numClasses * f);
  const counts = new Array<number>(numClasses).fill(0);
  for (let s = 0; s < train.count; s++) {
    counts[trainY[s]]++;
    for (let j = 0; j < f; j++) centroids[trainY[s] * f + j] += trainX[s * f + j];
  }
  for (let c = 0; c < numClasses; c++) for (let j = 0; j < f; j++) centroids[c * f + j] /= counts[c];
  const { x, y } = gather(
    test,
    Uint32Array.from({ length: test.count }, (_, i) => i),
  );
  let correct = 0;
  for (let s = 0; s < test.count; s++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let c = 0; c < numClasses; c++) {
      let d = 0;
      for (let j = 0; j < f; j++) d += (x[s * f + j] - centroids[c * f + j]) ** 2;
      if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    if (best === y[s]) correct++;
  }
  return correct / test.count;
}

describe('makeSyntheticDataset', () => {
  it('has the requested sizes, 28 × 28 × 1 byte images and balanced labels i mod numClasses', () => {
    const data = makeSyntheticDataset({ trainSize: 23, testSize: 7, numClasses: 5, seed: 3 });
    expect(data).toMatchObject({
      name: 'synthetic',
      inputShape: [28, 28, 1],
      numClasses: 5,
      train: { count: 23, features: 784 },
      test: { count: 7, features: 784 },
    });
    expect(data.train.images).toBeInstanceOf(Uint8Array);
    expect(data.train.images.length).toBe(23 * 784);
    expect([...data.test.labels]).toEqual([0, 1, 2, 3, 4, 0, 1]);
    expect(data.classNames).toHaveLength(5);
    expect(data.source).toBe('synthetic (seed 3, 23 train / 7 test, 5 classes, noise 0.35)');
  });

  it('is a function of its options: same seed same bytes, other seed other bytes, test size leaves train alone', () => {
    const a = makeSyntheticDataset({ trainSize: 12, testSize: 4, seed: 1 });
    expect(makeSyntheticDataset({ trainSize: 12, testSize: 4, seed: 1 })).toEqual(a);
    expect(makeSyntheticDataset({ trainSize: 12, testSize: 4, seed: 2 }).train.images).not.toEqual(a.train.images);
    expect(makeSyntheticDataset({ trainSize: 12, testSize: 9, seed: 1 }).train).toEqual(a.train);
  });

  it('with no noise every sample is its class prototype, pixels spread over the byte range', () => {
    const data = makeSyntheticDataset({ trainSize: 20, testSize: 10, noise: 0, seed: 5 });
    const image = (split: Split, s: number): Uint8Array => split.images.subarray(s * 784, (s + 1) * 784) as Uint8Array;
    expect(image(data.train, 3)).toEqual(image(data.train, 13));
    expect(image(data.train, 3)).toEqual(image(data.test, 3));
    expect(image(data.train, 3)).not.toEqual(image(data.train, 4));
    const pixels = image(data.train, 0);
    // Uniform prototypes: mean near 127.5 (σ of the mean ≈ 73.6/√784 ≈ 2.6), both ends reached.
    expect(Math.abs(pixels.reduce((a, b) => a + b, 0) / 784 - 127.5)).toBeLessThan(13);
    expect(Math.min(...pixels)).toBeLessThan(5);
    expect(Math.max(...pixels)).toBeGreaterThan(250);
  });

  it('adds zero-mean noise with the requested standard deviation', () => {
    // Same seed ⇒ same prototypes; with noise 0 the samples are the prototypes themselves. Away
    // from the clamp (prototype bytes 51..204, ≥ 3σ from 0 and 255) the difference of the two sets is
    // round(255·(p + σz)) − round(255·p): mean 0, standard deviation ≈ 255·0.05 = 12.75 (rounding
    // adds ≈ 1/6 to the variance). Over ~90,000 pixels the mean's standard error is ≈ 0.04.
    const clean = makeSyntheticDataset({ trainSize: 200, testSize: 1, noise: 0, seed: 8 }).train.images;
    const noisy = makeSyntheticDataset({ trainSize: 200, testSize: 1, noise: 0.05, seed: 8 }).train.images;
    let n = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < clean.length; i++) {
      if (clean[i] < 51 || clean[i] > 204) continue;
      const d = noisy[i] - clean[i];
      n++;
      sum += d;
      sumSquares += d * d;
    }
    const mean = sum / n;
    expect(n).toBeGreaterThan(80000);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(Math.abs(Math.sqrt(sumSquares / n - mean * mean) - 12.76)).toBeLessThan(0.4);
  });

  it('is learnable: a nearest-class-mean classifier fitted on train is right on ≥ 99% of test', () => {
    const data = makeSyntheticDataset({ trainSize: 500, testSize: 200, seed: 0 });
    expect(nearestCentroidAccuracy(data.train, data.test, 10)).toBeGreaterThanOrEqual(0.99);
  });

  it('gets harder with noise: at noise 3 the same classifier is far from perfect', () => {
    const data = makeSyntheticDataset({ trainSize: 500, testSize: 200, seed: 0, noise: 3 });
    expect(nearestCentroidAccuracy(data.train, data.test, 10)).toBeLessThan(0.9);
  });

  it('rejects options out of range, naming them', () => {
    expect(() => makeSyntheticDataset({ numClasses: 1 })).toThrow('synthetic.numClasses must be an integer in [2, 256], got 1');
    expect(() => makeSyntheticDataset({ trainSize: 0 })).toThrow(expect.objectContaining({ option: 'synthetic.trainSize', value: 0 }));
    expect(() => makeSyntheticDataset({ noise: -1 })).toThrow(expect.objectContaining({ option: 'synthetic.noise' }));
    expect(() => makeSyntheticDataset({ seed: 1.5 })).toThrow(expect.objectContaining({ option: 'synthetic.seed' }));
  });
});
