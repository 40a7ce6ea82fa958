import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxPoolBackprop2x2 } from './max-pool-backprop.js';
import { registerWasmTrainingKernels } from './register.js';
import { runKernelOn, seededValues, worstBoundRatio } from './testing/oracle.js';

beforeAll(() => registerWasmTrainingKernels());

const ATTRS_2X2 = { filterSize: 2, strides: 2, pad: 'valid' as const };

async function maxPoolGradOn(
  backend: 'cpu' | 'wasm',
  x: Float32Array,
  xShape: number[],
  dy: Float32Array,
  attrs: { filterSize: number; strides: number; pad: 'same' | 'valid' },
) {
  await tf.setBackend('cpu');
  const input = tf.tensor4d(x, xShape as [number, number, number, number]);
  const y = tf.maxPool(input, attrs.filterSize, attrs.strides, attrs.pad);
  const output = { values: y.dataSync() as Float32Array, shape: y.shape };
  tf.dispose([input, y]);
  return runKernelOn(backend, 'MaxPoolGrad', { dy: { values: dy, shape: output.shape }, input: { values: x, shape: xShape }, output }, attrs);
}

describe('MaxPoolGrad on wasm', () => {
  it('sends each window its gradient at the first maximum, also for windows with no positive value', async () => {
    // One 2×8 image, one channel, four 2×2 windows, dy = [1, 2, 3, 4]:
    //   row 0: −1 −2 | 0 0 | 1 1 | 5 1
    //   row 1: −3 −4 | 0 0 | 2 2 | 2 3
    // window 0 (all negative): max −1 at (0,0)                 → dx(0,0) = 1
    // window 1 (all zero): first of the tied maxima is (0,2)  → dx(0,2) = 2
    // window 2: max 2 at (1,4) and (1,5); the first is (1,4) → dx(1,4) = 3
    // window 3: max 5 at (0,6)                                 → dx(0,6) = 4
    // (The backend's own kernel drops windows 1 and gives window 2's share to (1,5).)
    const x = new Float32Array([-1, -2, 0, 0, 1, 1, 5, 1, -3, -4, 0, 0, 2, 2, 2, 3]);
    const out = await maxPoolGradOn('wasm', x, [1, 2, 8, 1], new Float32Array([1, 2, 3, 4]), ATTRS_2X2);
    expect(Array.from(out.values)).toEqual([1, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
  });

  // 'valid' 2×2/2 windows do not overlap: each dx is one dy or 0, so wasm and cpu must agree
  // exactly. Values rounded to multiples of 0.5 make ties; values in [−1, 0] make all-negative windows.
  const exact = [
    { name: '2×2/2 valid, continuous values', shape: [2, 8, 6, 3], step: 0, shift: 0 },
    { name: '2×2/2 valid, many ties', shape: [2, 8, 6, 3], step: 0.5, shift: 0 },
    { name: '2×2/2 valid, all values ≤ 0', shape: [2, 6, 6, 4], step: 0.25, shift: -1 },
    { name: '2×2/2 valid, odd size (last row and column unused)', shape: [3, 7, 9, 2], step: 0.5, shift: 0 },
  ];
  it.each(exact)('$name: equal to the cpu backend', async ({ shape, step, shift }) => {
    const x = seededValues(
      shape.reduce((a, b) => a * b, 1),
      7,
      step,
    ).map((v) => (shift < 0 ? (v - 1) / 2 : v));
    const outSize = shape[0]! * Math.floor(shape[1]! / 2) * Math.floor(shape[2]! / 2) * shape[3]!;
    const dy = seededValues(outSize, 8);
    const cpu = await maxPoolGradOn('cpu', x, shape, dy, ATTRS_2X2);
    const wasm = await maxPoolGradOn('wasm', x, shape, dy, ATTRS_2X2);
    expect(wasm.shape).toEqual(shape);
    expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
  });

  // Overlapping windows add several dy into one dx, in an order that may differ between the
  // backends: at most ⌈f/s⌉² = 4 terms for 3×3/2 and 9 for 3×3/1 (bound in oracle.ts).
  const overlapping = [
    { name: '3×3/2 same', attrs: { filterSize: 3, strides: 2, pad: 'same' as const }, terms: 4 },
    { name: '3×3/1 same', attrs: { filterSize: 3, strides: 1, pad: 'same' as const }, terms: 9 },
  ];
  it.each(overlapping)('$name, ties included: within rounding of the cpu backend', async ({ attrs, terms }) => {
    const shape = [2, 7, 6, 3];
    const x = seededValues(
      shape.reduce((a, b) => a * b, 1),
      9,
      0.5,
    );
    const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad);
    const dy = seededValues(shape[0]! * info.outHeight * info.outWidth * shape[3]!, 10);
    const cpu = await maxPoolGradOn('cpu', x, shape, dy, attrs);
    const wasm = await maxPoolGradOn('wasm', x, shape, dy, attrs);
    // Σ|terms| for each dx is the same routing applied to |dy|.
    const absTerms = await maxPoolGradOn('cpu', x, shape, dy.map(Math.abs), attrs);
    expect(worstBoundRatio(wasm.values, cpu.values, absTerms.values, terms)).toBeLessThanOrEqual(1);
  });
});

describe('maxPoolBackprop2x2', () => {
  it('treats −0 and +0 as equal, so the first zero of an all-zero window takes the gradient', () => {
    // One 2×2 window, one channel: x = [[−0, +0], [+0, −0]], forward output y = +0 (a backend may
    // return either zero). The bits of −0 and +0 differ, but −0 > +0 is false and +0 > −0 too, so
    // by the first-maximum rule position (0,0) takes dy = 5.
    const info = tf.backend_util.computePool2DInfo([1, 2, 2, 1], 2, 2, 1, 'valid');
    const dx = new Float32Array(4).fill(NaN);
    maxPoolBackprop2x2(new Float32Array([-0, 0, 0, -0]), new Float32Array([0]), new Float32Array([5]), info, dx);
    expect(Array.from(dx)).toEqual([5, 0, 0, 0]);
  });

  it('writes 0 where no window reaches and routes each channel on its own', () => {
    // A 3×3 image with 2 channels: one 2×2 window over rows/columns 0–1; row 2 and column 2 are
    // outside every window. Channel 0 has its maximum 4 at (1,1), channel 1 its maximum 9 at (0,1).
    //   channel 0: [[1, 2, 7], [3, 4, 7], [7, 7, 7]]    channel 1: [[0, 9, 7], [9, 1, 7], [7, 7, 7]]
    // (channel 1 ties 9 at (0,1) and (1,0): the first in row-major order wins.)
    const c0 = [1, 2, 7, 3, 4, 7, 7, 7, 7];
    const c1 = [0, 9, 7, 9, 1, 7, 7, 7, 7];
    const x = new Float32Array(c0.flatMap((v, i) => [v, c1[i]!]));
    const info = tf.backend_util.computePool2DInfo([1, 3, 3, 2], 2, 2, 1, 'valid');
    const dx = new Float32Array(18).fill(NaN);
    maxPoolBackprop2x2(x, new Float32Array([4, 9]), new Float32Array([10, 20]), info, dx);
    const channel = (k: number) => Array.from(dx.filter((_, i) => i % 2 === k));
    expect(channel(0)).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
    expect(channel(1)).toEqual([0, 20, 0, 0, 0, 0, 0, 0, 0]);
  });
});
