/**
 * Several micro-batches in one pass against one computeGradients call each, bit for bit, on the
 * cpu and the wasm backend: a dense stack's shared pass (grouped-gradients.ts), other models'
 * fall-back.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { createModel } from './model.js';
import type { ModelConfig } from './model-config.js';
import { seededBatch } from './test-fixtures.js';

const CONFIGS: ModelConfig[] = [
  // Fashion-MNIST's shape and the default widths: the products are large enough for XNNPACK's tiling.
  { name: 'mlp', inputShape: [28, 28, 1], numClasses: 10, hidden: [256, 128] },
  { name: 'mlp', inputShape: [6], numClasses: 3, hidden: [8, 5] },
  { name: 'cnn', inputShape: [8, 8, 2], numClasses: 3, channels: [4, 5] },
];

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.each(['cpu', 'wasm'])('computeGradientsEach on %s', (backend) => {
  for (const config of CONFIGS) {
    it(`${config.name} ${config.inputShape!.join('×')}: each micro-batch's loss and gradient are its own call's, and nothing leaks`, async () => {
      await tf.setBackend(backend);
      const model = createModel(config);
      const params = model.init(5);
      const batches = [0, 1, 2, 3].map((k) => seededBatch(model, 16, 10 + k));
      const before = tf.memory().numTensors;
      const each = model.computeGradientsEach(params, batches);
      expect(tf.memory().numTensors).toBe(before);
      batches.forEach((batch, k) => {
        const alone = model.computeGradients(params, batch);
        expect(Object.is(each[k]!.loss, alone.loss), `loss of micro-batch ${k}`).toBe(true);
        const differ = each[k]!.grads.reduce((n, g, i) => n + (Object.is(g, alone.grads[i]) ? 0 : 1), 0);
        expect(differ, `gradient values of micro-batch ${k} that differ`).toBe(0);
        expect(bits(each[k]!.grads).equals(bits(alone.grads))).toBe(true);
      });
    });
  }

  it('writes into the arrays given, and takes micro-batches of different sizes one by one', async () => {
    await tf.setBackend(backend);
    const model = createModel(CONFIGS[1]!);
    const params = model.init(2);
    const batches = [seededBatch(model, 8, 1), seededBatch(model, 5, 2)];
    const outs = batches.map(() => new Float32Array(model.paramCount));
    const each = model.computeGradientsEach(params, batches, outs);
    expect(each.map((r) => r.grads)).toEqual(outs);
    batches.forEach((b, k) => expect(bits(outs[k]!).equals(bits(model.computeGradients(params, b).grads))).toBe(true));
  });
});
