// The plain TensorFlow.js baseline must train the same function as dptrain, or the ratios compare
// different work. Oracle: @dptrain/model's computeGradients on the cpu backend, at the same weights.
import { initBackend } from '@dptrain/backend';
import { createModel } from '@dptrain/model';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlainModel } from './plain-tfjs-model.js';
import { registerStockGradients } from './tfjs-gradients.js';

beforeAll(async () => {
  await initBackend('cpu');
  await registerStockGradients();
});

/** 4 deterministic samples: pixel values (s·784 + p)·7919 mod 256 / 255, labels s mod 10. */
function batch(): { x: Float32Array; y: Int32Array; count: number } {
  const count = 4;
  const x = Float32Array.from({ length: count * 784 }, (_, i) => ((i * 7919) % 256) / 255);
  return { x, y: Int32Array.from({ length: count }, (_, s) => s % 10), count };
}

describe.each(['mlp', 'cnn'] as const)('plain tfjs %s', (name) => {
  it('declares the same tensors, in the same order and shapes, as @dptrain/model', () => {
    const ours = createModel({ name });
    const plain = createPlainModel(name, 1);
    expect(plain.trainable.map((v) => v.shape)).toEqual(ours.paramSpecs.map((s) => s.shape));
    expect(plain.paramCount).toBe(ours.paramCount);
    // mlp: 784·256 + 256 + 256·128 + 128 + 128·10 + 10 = 235,146
    // cnn: 3·3·1·16 + 2·16 + 3·3·16·32 + 2·32 + 1568·10 + 10 = 144 + 32 + 4,608 + 64 + 15,690 = 20,538
    expect(plain.paramCount).toBe(name === 'mlp' ? 235_146 : 20_538);
    tf.dispose(plain.trainable);
  });

  it("computes dptrain's loss and gradients at the same weights", () => {
    const ours = createModel({ name });
    const params = ours.init(3);
    const b = batch();
    const expected = ours.computeGradients(params, b);

    const plain = createPlainModel(name, 1);
    ours.paramSpecs.forEach((s, i) => plain.trainable[i].assign(tf.tensor(params.subarray(s.offset, s.offset + s.size), [...s.shape])));
    const { value, grads } = tf.variableGrads(() => {
      const logits = plain.forward(tf.tensor2d(b.x, [b.count, 784]));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.y, 'int32'), 10), logits) as tf.Scalar;
    }, plain.trainable);
    plain.updateRunningStats();

    expect(value.dataSync()[0]).toBeCloseTo(expected.loss, 5);
    ours.paramSpecs.forEach((s, i) => {
      const got = grads[plain.trainable[i].name].dataSync();
      const want = expected.grads.subarray(s.offset, s.offset + s.size);
      let worst = 0;
      let scale = 0;
      for (let k = 0; k < s.size; k++) {
        worst = Math.max(worst, Math.abs(got[k] - want[k]));
        scale = Math.max(scale, Math.abs(want[k]));
      }
      expect(worst, `${s.name}: largest difference ${worst} against largest gradient ${scale}`).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    });
    tf.dispose([value, ...Object.values(grads), ...plain.trainable]);
  });
});
