import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';
import { absInputs, runKernelOn, seededValues, worstBoundRatio } from './testing/oracle.js';

beforeAll(() => registerWasmTrainingKernels());

describe('BatchMatMul on wasm agrees with the cpu backend', () => {
  // The dense-layer gradients (xᵀ·dy, dy·Wᵀ) take the transposed fast path; batch > 1 and the
  // untransposed product go to the backend's own kernel.
  const cases = [
    { a: [64, 50], b: [64, 10], transposeA: true, transposeB: false },
    { a: [64, 10], b: [50, 10], transposeA: false, transposeB: true },
    { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
    { a: [1, 7, 5], b: [1, 3, 7], transposeA: true, transposeB: true },
    { a: [1, 7, 5], b: [7, 3], transposeA: true, transposeB: false },
    { a: [2, 7, 5], b: [2, 7, 3], transposeA: true, transposeB: false },
    { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  ];
  it.each(cases)('$a × $b, transposeA $transposeA, transposeB $transposeB', async ({ a, b, transposeA, transposeB }) => {
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const inputs = { a: { values: seededValues(size(a), 41), shape: a }, b: { values: seededValues(size(b), 42), shape: b } };
    const attrs = { transposeA, transposeB };
    const cpu = await runKernelOn('cpu', 'BatchMatMul', inputs, attrs);
    const wasm = await runKernelOn('wasm', 'BatchMatMul', inputs, attrs);
    const absTerms = await runKernelOn('cpu', 'BatchMatMul', absInputs(inputs), attrs);
    expect(wasm.shape).toEqual(cpu.shape);
    const inner = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
    expect(worstBoundRatio(wasm.values, cpu.values, absTerms.values, inner)).toBeLessThanOrEqual(1);
  });

  it('multiplies a transposed matrix by hand', async () => {
    // aᵀ·b with a = [[1, 2], [3, 4]] (so aᵀ = [[1, 3], [2, 4]]) and b = [[1, 0], [0, 1]] gives aᵀ.
    const out = await runKernelOn(
      'wasm',
      'BatchMatMul',
      { a: { values: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, b: { values: new Float32Array([1, 0, 0, 1]), shape: [2, 2] } },
      { transposeA: true, transposeB: false },
    );
    expect(Array.from(out.values)).toEqual([1, 3, 2, 4]);
  });
});
