/**
 * The wasm backend (the default where tfjs-node is absent) against the cpu backend: the wasm
 * training kernels registered by createModel must give the cpu backend's gradients up to float32
 * rounding, the same bits on repeated calls, and no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { createModel } from './model.js';
import type { ModelConfig } from './model-config.js';
import { seededBatch } from './test-fixtures.js';

const CONFIGS: ModelConfig[] = [
  { name: 'mlp', inputShape: [6], numClasses: 3, hidden: [8] },
  { name: 'cnn', inputShape: [8, 8, 2], numClasses: 3, channels: [4, 5] },
  { name: 'resnet', inputShape: [6, 6, 2], numClasses: 3, blocks: 2, width: 4, norm: 'batchnorm' },
  { name: 'resnet', inputShape: [6, 6, 2], numClasses: 3, blocks: 2, width: 4, norm: 'fixup' },
];

describe('wasm backend', () => {
  for (const config of CONFIGS) {
    it(`${config.name} ${config.norm ?? ''}: matches cpu, repeats bit for bit, leaks nothing`, async () => {
      const model = createModel(config);
      const batch = seededBatch(model, 5, 2);
      await tf.setBackend('cpu');
      const params = model.init(3);
      // Move Fixup's zero layers off zero so every kernel is exercised with real values.
      for (let i = 0; i < params.length; i++) params[i] += 0.05 * Math.sin(i);
      const onCpu = model.computeGradients(params, batch);
      await tf.setBackend('wasm');
      expect(Buffer.from(model.init(3).buffer).equals(Buffer.from(createModel(config).init(3).buffer))).toBe(true);
      const onWasm = model.computeGradients(params, batch);
      expect(onWasm.loss).toBeCloseTo(onCpu.loss, 5);
      const scale = Math.max(...onCpu.grads.map(Math.abs));
      onWasm.grads.forEach((g, i) => expect(Math.abs(g - onCpu.grads[i]) / scale).toBeLessThan(1e-4));
      onWasm.bnStats.forEach((s, l) => s.variance.forEach((v, c) => expect(v).toBeCloseTo(onCpu.bnStats[l].variance[c], 4)));

      const before = tf.memory().numTensors;
      const again = model.computeGradients(params, batch);
      model.evaluate(params, model.initBnState(), batch);
      expect(tf.memory().numTensors).toBe(before);
      expect(Buffer.from(again.grads.buffer).equals(Buffer.from(onWasm.grads.buffer))).toBe(true);
    });
  }
});
