import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';
import { sumLeadingAxes } from './sum-leading-axes.js';
import { absInputs, runKernelOn, seededValues, worstBoundRatio } from './testing/oracle.js';

beforeAll(() => registerWasmTrainingKernels());

describe('sumLeadingAxes', () => {
  it('sums columns, scaled, for narrow and wide matrices alike', () => {
    // [[1, 2, 3, 4, 5], [10, 20, 30, 40, 50]]: column sums 11, 22, 33, 44, 55 (four in registers, one alone).
    const narrow = new Float32Array(5);
    sumLeadingAxes(new Float32Array([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]), 2, 5, 1, narrow);
    expect(Array.from(narrow)).toEqual([11, 22, 33, 44, 55]);
    // 3 rows × 65 columns (the wide path): row r, column c holds r·100 + c, so column c sums to
    // 300 + 3c; scale ½ → 150 + 1.5c.
    const wide = new Float32Array(65);
    const x = new Float32Array(3 * 65).map((_, i) => Math.floor(i / 65) * 100 + (i % 65));
    sumLeadingAxes(x, 3, 65, 0.5, wide);
    expect(Array.from(wide)).toEqual(Array.from({ length: 65 }, (_, c) => 150 + 1.5 * c));
  });

  it('accumulates in double precision: 1 + 2⁻²⁴ + 2⁻²⁴ keeps both small terms', () => {
    // A float32 running sum rounds 1 + 2⁻²⁴ back to 1 twice and returns 1; in float64 the sum is
    // 1 + 2⁻²³, which float32 represents exactly.
    const out = new Float32Array(1);
    sumLeadingAxes(new Float32Array([1, 2 ** -24, 2 ** -24]), 3, 1, 1, out);
    expect(out[0]).toBe(1 + 2 ** -23);
  });
});

describe('Sum and Mean on wasm agree with the cpu backend', () => {
  // Leading-axis float32 reductions take the fast path; the others check that what is passed on
  // to the backend's own kernel still works.
  const cases = [
    { shape: [4, 5, 6, 7], axis: [0, 1, 2] },
    { shape: [3, 4, 5, 70], axis: [0, 1, 2] },
    { shape: [9, 3], axis: 0 },
    { shape: [9, 3], axis: [-2] },
    { shape: [2, 3, 4], axis: [1, 0] },
    { shape: [2, 3, 4], axis: [1, 2] },
    { shape: [2, 3, 4], axis: [0, 1, 2] },
    { shape: [2, 3, 4], axis: [0, 2] },
  ];
  const runs = ['Sum', 'Mean'].flatMap((kernel) => [false, true].flatMap((keepDims) => cases.map((c) => ({ kernel, keepDims, ...c }))));
  it.each(runs)('$kernel over $axis of $shape, keepDims $keepDims', async ({ kernel, shape, axis, keepDims }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const inputs = { x: { values: seededValues(size, 31), shape } };
    const attrs = { axis, keepDims };
    const cpu = await runKernelOn('cpu', kernel, inputs, attrs);
    const wasm = await runKernelOn('wasm', kernel, inputs, attrs);
    const absTerms = await runKernelOn('cpu', kernel, absInputs(inputs), attrs);
    expect(wasm.shape).toEqual(cpu.shape);
    // A sum of n values; a mean adds one rounding for the division: n + 1 ≤ size + 1.
    expect(worstBoundRatio(wasm.values, cpu.values, absTerms.values, size + 1)).toBeLessThanOrEqual(1);
  });
});
