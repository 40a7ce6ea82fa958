/** Shared by this package's tests only (not exported): seeded batches and a gradient check. */
import type { Batch, Model } from './model.js';
import type { ModelConfig } from './model-config.js';

/** Tiny instances of every architecture, quick to build and run. */
export const TINY: Record<string, ModelConfig> = {
  mlp: { name: 'mlp', inputShape: [5], numClasses: 3, hidden: [4, 3] },
  cnn: { name: 'cnn', inputShape: [6, 6, 2], numClasses: 3, channels: [3, 4] },
  'resnet conv batchnorm': { name: 'resnet', inputShape: [4, 4, 2], numClasses: 3, blocks: 2, width: 3, norm: 'batchnorm' },
  'resnet conv fixup': { name: 'resnet', inputShape: [4, 4, 2], numClasses: 3, blocks: 2, width: 3, norm: 'fixup' },
  'resnet conv none': { name: 'resnet', inputShape: [4, 4, 2], numClasses: 3, blocks: 2, width: 3, norm: 'none' },
  'resnet dense batchnorm': { name: 'resnet', inputShape: [5], numClasses: 3, blocks: 2, width: 4, norm: 'batchnorm' },
  'resnet dense fixup': { name: 'resnet', inputShape: [5], numClasses: 3, blocks: 2, width: 4, norm: 'fixup' },
};

/** Seeded values uniform in [−1, 1) (a 32-bit LCG; the tests only need repeatability). */
export function seededValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** A batch of `count` seeded samples for `model`, labels cycling through the classes. */
export function seededBatch(model: Model, count: number, seed: number): Batch {
  const sampleSize = model.config.inputShape.reduce((a, d) => a * d, 1);
  const y = Int32Array.from({ length: count }, (_, i) => (i * 7 + seed) % model.config.numClasses);
  return { x: seededValues(count * sampleSize, seed), y, count };
}

/**
 * The directional derivative of the loss along `direction`, two ways: from the model's gradient
 * (g·v) and by central differences (L(p + εv) − L(p − εv))/2ε in float32.
 */
export function directionalDerivative(
  model: Model,
  params: Float32Array,
  batch: Batch,
  direction: Float32Array,
  epsilon: number,
): { analytic: number; numeric: number } {
  const { grads } = model.computeGradients(params, batch);
  let analytic = 0;
  for (let i = 0; i < grads.length; i++) analytic += grads[i] * direction[i];
  const shifted = (sign: number): number =>
    model.computeGradients(
      params.map((p, i) => p + sign * epsilon * direction[i]),
      batch,
    ).loss;
  return { analytic, numeric: (shifted(1) - shifted(-1)) / (2 * epsilon) };
}

/** A random direction of unit length. */
export function unitDirection(n: number, seed: number): Float32Array {
  const v = seededValues(n, seed);
  const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return v.map((x) => x / norm);
}
