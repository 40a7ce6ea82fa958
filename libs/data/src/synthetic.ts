import { checkInteger, checkSeed } from './check-options.js';
import { DataOptionError } from './data-error.js';
import type { Dataset, Split } from './dataset-types.js';
import { deriveSeed, Mulberry32 } from '@dptrain/random';
import { STREAM } from './streams.js';

export interface SyntheticOptions {
  /** Training samples. @default 2000 */
  readonly trainSize?: number;
  /** Test samples. @default 500 */
  readonly testSize?: number;
  /** Classes, 2..256. @default 10 */
  readonly numClasses?: number;
  /** Standard deviation of the pixel noise around a class's prototype, in pixel units of [0, 1]. @default 0.35 */
  readonly noise?: number;
  /** Unsigned 32-bit seed; the same seed gives the same bytes in every process. @default 0 */
  readonly seed?: number;
}

/** Height and width of the generated images (one channel). */
export const SYNTHETIC_SIDE = 28;
/** Classes of the generated set unless `numClasses` says otherwise. */
export const SYNTHETIC_CLASSES = 10;
const SIDE = SYNTHETIC_SIDE;
const FEATURES = SIDE * SIDE;
const SQRT3 = Math.sqrt(3);

/**
 * A generated 28 × 28 × 1 image classification set, learnable and quick to make, for tests and
 * smoke runs without downloads. Gaussian-like blobs:
 *
 * - class c has a prototype image whose pixels are uniform on [0, 1) (stream `syntheticPrototypes`);
 * - sample i has label i mod numClasses (so classes are balanced to ±1) and pixels
 *   `round(255 · clamp(prototype + noise · z, 0, 1))`, stored as bytes like the real data sets;
 * - z = (u₁ + u₂ + u₃ + u₄ − 2)·√3 (Irwin–Hall: mean 0, variance 1, close to normal). Sums of
 *   uniforms rather than Box–Muller keep to + and ×, so every platform produces the same bytes,
 *   which the workers of a cluster rely on when each generates the set itself.
 *
 * Train and test samples come from separate streams (`syntheticTrain`, `syntheticTest`), so
 * changing `testSize` does not change the training set.
 * @throws {DataOptionError} an option out of range.
 */
export function makeSyntheticDataset(options: SyntheticOptions = {}): Dataset {
  const trainSize = checkInteger('synthetic.trainSize', options.trainSize ?? 2000, 1);
  const testSize = checkInteger('synthetic.testSize', options.testSize ?? 500, 1);
  const numClasses = checkInteger('synthetic.numClasses', options.numClasses ?? SYNTHETIC_CLASSES, 2, 256);
  const seed = checkSeed('synthetic.seed', options.seed ?? 0);
  const noise = options.noise ?? 0.35;
  if (!(Number.isFinite(noise) && noise >= 0)) {
    throw new DataOptionError(
      'E_DATA_OPTION',
      'synthetic.noise',
      noise,
      `synthetic.noise must be a finite number ≥ 0 (a standard deviation in pixel units), got ${noise}`,
    );
  }
  const prototypes = new Float64Array(numClasses * FEATURES);
  const prototypeRng = new Mulberry32(deriveSeed(seed, STREAM.syntheticPrototypes));
  for (let i = 0; i < prototypes.length; i++) prototypes[i] = prototypeRng.nextFloat();
  const generate = (count: number, stream: number): Split => {
    const rng = new Mulberry32(deriveSeed(seed, stream));
    const images = new Uint8Array(count * FEATURES);
    const labels = new Uint8Array(count);
    for (let s = 0; s < count; s++) {
      const label = s % numClasses;
      labels[s] = label;
      const base = label * FEATURES;
      for (let f = 0; f < FEATURES; f++) {
        const z = (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 2) * SQRT3;
        const value = Math.min(1, Math.max(0, prototypes[base + f] + noise * z));
        images[s * FEATURES + f] = Math.round(value * 255);
      }
    }
    return { images, labels, count, features: FEATURES };
  };
  return {
    name: 'synthetic',
    inputShape: [SIDE, SIDE, 1],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, c) => `blob ${c}`),
    train: generate(trainSize, STREAM.syntheticTrain),
    test: generate(testSize, STREAM.syntheticTest),
    source: `synthetic (seed ${seed}, ${trainSize} train / ${testSize} test, ${numClasses} classes, noise ${noise})`,
  };
}
