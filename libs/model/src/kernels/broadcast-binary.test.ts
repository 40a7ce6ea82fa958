import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './register.js';
import { repeatPattern } from './repeat-pattern.js';
import { runKernelOn, seededValues } from './testing/oracle.js';

beforeAll(() => registerWasmTrainingKernels());

describe('repeatPattern', () => {
  it('tiles a pattern end to end, also when the count is not a power of two', () => {
    // 3 values × 5 copies: doubling fills 3, 6, 12, then the last 3.
    const out = new Float32Array(15);
    repeatPattern(new Float32Array([1, 2, 3]), out);
    expect(Array.from(out)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('refuses an output that is not a multiple of the pattern, naming both lengths', () => {
    expect(() => repeatPattern(new Float32Array(3), new Float32Array(7))).toThrow(/3 values into 7/);
  });
});

describe('Add, Sub, Multiply and RealDiv on wasm give the cpu backend’s bits', () => {
  // Each element is one correctly rounded float32 operation on both backends (the cpu backend
  // computes in double and rounds once, which for +, −, ×, ÷ of two float32 values gives the
  // same result), so the outputs must be equal bit for bit, broadcast or not.
  const shapes = [
    { a: [4, 6, 6, 16], b: [16] }, // per-channel vector: the fast path
    { a: [1, 1, 1, 16], b: [4, 6, 6, 16] }, // the small operand first, with leading 1s
    { a: [8, 7, 5, 3], b: [5, 3] }, // a longer suffix
    { a: [4, 6, 6, 16], b: [4, 1, 1, 16] }, // not a suffix: the backend's own kernel
    { a: [4, 6, 6, 16], b: [1] }, // a scalar: the backend's own kernel
    { a: [4, 6, 6, 16], b: [4, 6, 6, 16] }, // no broadcast
    { a: [3, 5], b: [5] }, // too small to bother
  ];
  const runs = ['Add', 'Sub', 'Multiply', 'RealDiv'].flatMap((kernel) => shapes.map((s) => ({ kernel, ...s })));
  it.each(runs)('$kernel of $a and $b', async ({ kernel, a, b }) => {
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    // Divisors kept away from 0 so that RealDiv stays finite.
    const inputs = {
      a: { values: seededValues(size(a), 51), shape: a },
      b: { values: seededValues(size(b), 52).map((v) => v + Math.sign(v) + (v === 0 ? 1 : 0)), shape: b },
    };
    const cpu = await runKernelOn('cpu', kernel, inputs, {});
    const wasm = await runKernelOn('wasm', kernel, inputs, {});
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Buffer.from(wasm.values.buffer).equals(Buffer.from(cpu.values.buffer))).toBe(true);
  });
});
