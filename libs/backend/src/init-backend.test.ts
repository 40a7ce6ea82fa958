import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, initBackend, parseBackendChoice } from './index.js';

const nativeInstalled = await import('@tensorflow/tfjs-node' as string).then(
  () => true,
  () => false,
);

describe('parseBackendChoice', () => {
  it('accepts the four choices in any case', () => {
    expect(['auto', 'TensorFlow', ' wasm ', 'CPU'].map(parseBackendChoice)).toEqual(['auto', 'tensorflow', 'wasm', 'cpu']);
  });

  it('names the bad value and the accepted ones', () => {
    expect(() => parseBackendChoice('gpu')).toThrow(/unknown backend "gpu"; use one of auto, tensorflow, wasm, cpu/);
  });
});

describe('initBackend', () => {
  it('forced cpu runs ops on cpu', async () => {
    const info = await initBackend('cpu');
    expect(info).toMatchObject({ name: 'cpu', requested: 'cpu', tried: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect(Array.from(tf.add(tf.tensor1d([1, 2]), 1).dataSync())).toEqual([2, 3]);
  });

  it('forced wasm runs ops on wasm', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(Array.from(tf.mul(tf.tensor1d([1, 2]), 3).dataSync())).toEqual([3, 6]);
  });

  it.skipIf(nativeInstalled)('auto falls back to wasm when tfjs-node is absent, recording why', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(info.tried).toEqual([{ name: 'tensorflow', error: 'not installed' }]);
  });

  it.skipIf(nativeInstalled)('forced tensorflow without tfjs-node fails with the fix in the message', async () => {
    const error = await initBackend('tensorflow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe('E_BACKEND_UNAVAILABLE');
    expect((error as BackendError).message).toMatch(/backend "tensorflow" cannot be used: not installed; install it with `npm install @tensorflow\/tfjs-node`/);
  });

  it('reads DPTRAIN_BACKEND when no choice is given', async () => {
    process.env.DPTRAIN_BACKEND = 'cpu';
    try {
      expect((await initBackend()).name).toBe('cpu');
    } finally {
      delete process.env.DPTRAIN_BACKEND;
    }
  });
});
