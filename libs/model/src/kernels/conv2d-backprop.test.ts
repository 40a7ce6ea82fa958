import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';
import { absInputs, runKernelOn, seededValues, worstBoundRatio, type KernelInputs } from './testing/oracle.js';

// Registered before the wasm backend is first initialised (the first runKernelOn('wasm') does it).
beforeAll(() => registerWasmTrainingKernels());

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface ConvCase {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly inC: number;
  readonly outC: number;
  readonly filter: number;
  readonly stride: number;
  readonly pad: Pad;
}

// Non-square inputs catch swapped height/width; odd sizes with stride 2 leave a last row/column
// that no 'valid' window reaches; explicit pads are asymmetric.
const CASES: readonly ConvCase[] = [
  { batch: 2, height: 7, width: 6, inC: 1, outC: 4, filter: 3, stride: 1, pad: 'same' },
  { batch: 3, height: 7, width: 6, inC: 3, outC: 5, filter: 3, stride: 1, pad: 'same' },
  { batch: 2, height: 7, width: 9, inC: 3, outC: 5, filter: 3, stride: 2, pad: 'same' },
  { batch: 2, height: 8, width: 6, inC: 4, outC: 2, filter: 3, stride: 1, pad: 'valid' },
  { batch: 2, height: 9, width: 8, inC: 2, outC: 3, filter: 3, stride: 2, pad: 'valid' },
  { batch: 2, height: 6, width: 6, inC: 8, outC: 16, filter: 5, stride: 1, pad: 'same' },
  { batch: 2, height: 5, width: 5, inC: 16, outC: 8, filter: 1, stride: 2, pad: 'same' },
  {
    batch: 2,
    height: 6,
    width: 7,
    inC: 3,
    outC: 2,
    filter: 3,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { batch: 4, height: 28, width: 28, inC: 1, outC: 16, filter: 3, stride: 1, pad: 'same' },
];

function label(c: ConvCase): string {
  return `${c.batch}×${c.height}×${c.width}×${c.inC} → ${c.outC}, ${c.filter}×${c.filter}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;
}

function shapes(c: ConvCase, seed: number) {
  const info = tf.backend_util.computeConv2DInfo([c.batch, c.height, c.width, c.inC], [c.filter, c.filter, c.inC, c.outC], c.stride, 1, c.pad);
  const xShape = [c.batch, c.height, c.width, c.inC];
  const dyShape = [c.batch, info.outHeight, info.outWidth, c.outC];
  const filterShape = [c.filter, c.filter, c.inC, c.outC] as [number, number, number, number];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    info,
    filterShape,
    x: { values: seededValues(size(xShape), seed), shape: xShape },
    dy: { values: seededValues(size(dyShape), seed + 1), shape: dyShape },
    filter: { values: seededValues(size(filterShape), seed + 2), shape: filterShape },
  };
}

/** wasm vs cpu on the same inputs, as a fraction of the rounding bound (see oracle.ts). */
async function compare(kernelName: string, inputs: KernelInputs, attrs: object, terms: number) {
  const cpu = await runKernelOn('cpu', kernelName, inputs, attrs);
  const wasm = await runKernelOn('wasm', kernelName, inputs, attrs);
  const absTerms = await runKernelOn('cpu', kernelName, absInputs(inputs), attrs);
  expect(wasm.shape).toEqual(cpu.shape);
  return worstBoundRatio(wasm.values, cpu.values, absTerms.values, terms);
}

describe('Conv2DBackpropFilter on wasm agrees with the cpu backend', () => {
  it.each(CASES.map((c, i) => [label(c), c, i] as const))('%s', async (_, c, i) => {
    const { info, filterShape, x, dy } = shapes(c, 100 + 10 * i);
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape };
    // Each dW element sums one product per output position: N·OH·OW terms.
    const ratio = await compare('Conv2DBackpropFilter', { x, dy }, attrs, c.batch * info.outHeight * info.outWidth);
    expect(ratio).toBeLessThanOrEqual(1);
  });
});

describe('Conv2DBackpropInput on wasm agrees with the cpu backend', () => {
  it.each(CASES.map((c, i) => [label(c), c, i] as const))('%s', async (_, c, i) => {
    const { dy, filter } = shapes(c, 200 + 10 * i);
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.batch, c.height, c.width, c.inC] };
    // Each dx element sums at most one product per filter tap and output channel: KH·KW·Cout terms.
    const ratio = await compare('Conv2DBackpropInput', { dy, filter }, attrs, c.filter * c.filter * c.outC);
    expect(ratio).toBeLessThanOrEqual(1);
  });
});

describe('Conv2DBackpropFilter by hand', () => {
  it('sums x under each filter tap times dy, with zeros outside the image', async () => {
    // x is one 2×2 image, one channel: [[1, 2], [3, 4]]; 'same' 3×3 pads one zero all round,
    // output 2×2; dy = [[1, 0], [0, 1]] (NHWC, one channel in and out).
    // dW[kh][kw] = Σ_{oh,ow} x[oh+kh−1][ow+kw−1]·dy[oh][ow] = x[kh−1][kw−1] + x[kh][kw]
    // (the terms of dy[0][0] and dy[1][1]), x being 0 outside rows/columns 0..1:
    //   kh=0: [0+x00, 0+x01, 0+0]     = [1, 2, 0]
    //   kh=1: [0+x10, x00+x11, x01+0] = [3, 5, 2]
    //   kh=2: [0+0, x10+0, x11+0]     = [0, 3, 4]
    const out = await runKernelOn(
      'wasm',
      'Conv2DBackpropFilter',
      { x: { values: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] }, dy: { values: new Float32Array([1, 0, 0, 1]), shape: [1, 2, 2, 1] } },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 1, 1] },
    );
    expect(out.shape).toEqual([3, 3, 1, 1]);
    expect(Array.from(out.values)).toEqual([1, 2, 0, 3, 5, 2, 0, 3, 4]);
  });

  it('refuses NCHW with the fix', async () => {
    await expect(
      runKernelOn(
        'wasm',
        'Conv2DBackpropFilter',
        { x: { values: new Float32Array(4), shape: [1, 1, 2, 2] }, dy: { values: new Float32Array(4), shape: [1, 1, 2, 2] } },
        { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 1, 1] },
      ),
    ).rejects.toThrow(/NHWC.*'NCHW'/);
  });
});
