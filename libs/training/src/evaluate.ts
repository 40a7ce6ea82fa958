import { gather, type Split } from '@dptrain/data';
import type { Model } from '@dptrain/model';

export interface Evaluation {
  readonly loss: number;
  /** Fraction correct, 0–1. */
  readonly accuracy: number;
  readonly count: number;
}

export interface EvaluateOptions {
  /** Samples per forward pass. @default 1000 */
  readonly batchSize?: number;
  /** When given (split.count values), receives each sample's predicted class, in split order. */
  readonly predicted?: Int32Array;
}

/** Mean loss and accuracy of `params` on a whole split, batch norm on the running statistics. */
export function evaluateSplit(model: Model, params: Float32Array, bnState: Float32Array, split: Split, options: EvaluateOptions = {}): Evaluation {
  const { batchSize = 1000, predicted } = options;
  if (predicted && predicted.length !== split.count) throw new RangeError(`evaluateSplit: predicted has ${predicted.length} places for ${split.count} samples`);
  let lossSum = 0;
  let correct = 0;
  const indices = new Uint32Array(batchSize);
  const buffers = { x: new Float32Array(batchSize * split.features), y: new Int32Array(batchSize) };
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    for (let i = 0; i < n; i++) indices[i] = start + i;
    const batch = gather(split, indices.subarray(0, n), buffers);
    const result = model.evaluate(params, bnState, batch);
    lossSum += result.lossSum;
    correct += result.correct;
    predicted?.set(result.predicted, start);
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count, count: split.count };
}
