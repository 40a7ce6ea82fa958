import { describe, expect, it } from 'vitest';
import { adadeltaKernel } from '../adadelta.js';
import { adagradKernel } from '../adagrad.js';
import { adamKernel } from '../adam.js';
import { momentumKernel } from '../momentum.js';
import { nesterovLookaheadKernel } from '../nesterov.js';
import { rmspropKernel, rmspropMomentumKernel } from '../rmsprop.js';
import { sgdKernel } from '../sgd.js';
import { bits, seededRandom } from '../test-support.js';
import { instantiateKernels } from './kernel-module.js';
import { add, defineKernel, flushSubnormal, mul, sqrt, sub } from './kernel.js';
import type { AnyKernel, Expr } from './kernel.js';
import { webAssembly } from './webassembly-api.js';

/**
 * The oracle: the kernel's expression evaluated element by element in JavaScript, rounding to
 * float32 after every operation. For +, −, ×, ÷ and √ of float32 operands, rounding the double
 * result to float32 gives the correctly rounded float32 result (double has more than 2·24 + 2
 * bits), so this is exactly IEEE float32 arithmetic, the semantics WebAssembly prescribes.
 */
function interpret(kernel: AnyKernel, arrays: Float32Array[], scalars: readonly number[]): void {
  const f = Math.fround;
  const n = arrays[0].length;
  for (let i = 0; i < n; i++) {
    const known = new Map<Expr, number>(); // a node is computed once per element, as in the kernel
    const value = (e: Expr): number => {
      const seen = known.get(e);
      if (seen !== undefined) return seen;
      let v: number;
      if (e.kind === 'load') v = arrays[e.array][i];
      else if (e.kind === 'scalar') v = f(scalars[e.index]);
      else if (e.kind === 'sqrt') v = f(Math.sqrt(value(e.a)));
      else if (e.kind === 'flush') {
        const x = value(e.a);
        v = Math.abs(x) < 2 ** -126 ? 0 : x;
      } else {
        const a = value(e.a);
        const b = value(e.b);
        v = f(e.kind === 'add' ? a + b : e.kind === 'sub' ? a - b : e.kind === 'mul' ? a * b : a / b);
      }
      known.set(e, v);
      return v;
    };
    for (const store of kernel.stores) arrays[store.array][i] = value(store.value);
  }
}

const SENTINEL = -12_345.5;
const STRIDE = 256; // bytes per array region in the test memory, room for 64 floats

/** Runs `kernel` in WebAssembly on copies of `inputs` placed in one memory; returns them and the memory. */
function runWasm(kernel: AnyKernel, inputs: readonly Float32Array[], scalars: readonly number[]) {
  const wasm = webAssembly()!;
  const memory = new wasm.Memory({ initial: 1, maximum: 1 });
  new Float32Array(memory.buffer).fill(SENTINEL);
  const views = inputs.map((input, k) => {
    const view = new Float32Array(memory.buffer, k * STRIDE, input.length);
    view.set(input);
    return view;
  });
  const run = instantiateKernels('test', [kernel], memory)[kernel.name];
  run(...inputs.map((_, k) => k * STRIDE), inputs[0].length, ...scalars);
  return { outputs: views, memory };
}

/** Inputs that keep every root real: slots in [0, 1), params, grads and delta in (−1, 1). */
function randomInputs(kernel: AnyKernel, n: number, seed: number): Float32Array[] {
  const rng = seededRandom(seed);
  return kernel.arrays.map((name) => Float32Array.from({ length: n }, () => (['params', 'grads', 'delta'].includes(name) ? 2 * rng() - 1 : rng())));
}

const KERNELS: [AnyKernel, number[]][] = [
  [sgdKernel, sgdKernel.values(1, 0.1, { lr: 0.1 })],
  [momentumKernel, momentumKernel.values(1, 0.1, { lr: 0.1, momentum: 0.9 })],
  [nesterovLookaheadKernel, nesterovLookaheadKernel.values(1, 0.1, { lr: 0.1, momentum: 0.9 })],
  [adagradKernel, adagradKernel.values(1, 0.1, { lr: 0.1, eps: 1e-8 })],
  [adadeltaKernel, adadeltaKernel.values(1, 1, { lr: 1, rho: 0.9, eps: 1e-6 })],
  [adamKernel, adamKernel.values(3, 0.01, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 })],
  [rmspropKernel, rmspropKernel.values(1, 0.01, { lr: 0.01, rho: 0.9, eps: 1e-8, momentum: 0 })],
  [rmspropMomentumKernel, rmspropMomentumKernel.values(1, 0.01, { lr: 0.01, rho: 0.9, eps: 1e-8, momentum: 0.8 })],
];

describe('compiled kernels', () => {
  it.each(KERNELS.map(([kernel, scalars]) => [kernel.name, kernel, scalars] as const))(
    '%s = its expression in float32, bit for bit, for n = 0 … 13 (f32x4 loop, f32 tail, both)',
    (_name, kernel, scalars) => {
      for (let n = 0; n <= 13; n++) {
        const inputs = randomInputs(kernel, n, 100 + n);
        const expected = inputs.map((a) => a.slice());
        interpret(kernel, expected, scalars);
        const { outputs, memory } = runWasm(kernel, inputs, scalars);
        outputs.forEach((output, k) => expect(bits(output), `${kernel.arrays[k]}, n = ${n}`).toEqual(bits(expected[k])));
        // nothing written past the n elements of any array (the next region starts there)
        inputs.forEach((_, k) => {
          const rest = new Float32Array(memory.buffer, k * STRIDE + 4 * n, STRIDE / 4 - n);
          expect(rest.every((x) => x === SENTINEL)).toBe(true);
        });
      }
    },
  );

  it('the stores changed the arrays (the comparison above is not of untouched inputs)', () => {
    const inputs = randomInputs(adamKernel, 8, 1);
    const { outputs } = runWasm(adamKernel, inputs, KERNELS[5][1]);
    outputs.forEach((output, k) => {
      if (adamKernel.arrays[k] !== 'grads') expect(bits(output)).not.toEqual(bits(inputs[k]));
    });
  });

  it('flushes zeros and subnormals to +0 and keeps every other value, ∞ and NaN included, in both loops', () => {
    const kernel = defineKernel({
      name: 'flushed',
      arrays: ['x', 'y'],
      scalars: ['scale'],
      values: () => ({ scale: 1 }),
      body: ({ x, y }, { scale }) => [y.store(flushSubnormal(mul(x.load(), scale)))],
    });
    const least = 2 ** -126;
    const [subnormal, tiniest] = [least / 2, 2 ** -149];
    const x = Float32Array.of(subnormal, -subnormal, tiniest, -0, least, -least, 1.5, -2.5, Infinity, -Infinity, NaN, 0, 3e-39);
    const expected = Float32Array.of(0, 0, 0, 0, least, -least, 1.5, -2.5, Infinity, -Infinity, NaN, 0, 0);
    // 13 values: three f32x4 steps and a one-element tail; reversed, each value goes through the other loop.
    for (const input of [x, x.slice().reverse()]) {
      const want = input === x ? expected : expected.slice().reverse();
      const { outputs } = runWasm(kernel, [input, new Float32Array(input.length)], [1]);
      expect(bits(outputs[1])).toEqual(bits(want));
      const oracle = [input.slice(), new Float32Array(input.length)];
      interpret(kernel, oracle, [1]);
      expect(bits(outputs[1])).toEqual(bits(oracle[1]));
    }
  });

  it('computes a node used twice once, with the value it had at its first use', () => {
    // x ← x + 1, then y ← old x · old x: `old` is loaded before the store and kept in a local.
    const kernel = defineKernel({
      name: 'keepsOld',
      arrays: ['x', 'y'],
      scalars: ['one'],
      values: () => ({ one: 1 }),
      body: ({ x, y }, { one }) => {
        const old = x.load();
        return [x.store(add(old, one)), y.store(mul(old, old))];
      },
    });
    const { outputs } = runWasm(kernel, [Float32Array.of(1, 2, 3, 4, 5), new Float32Array(5)], [1]);
    expect(Array.from(outputs[0])).toEqual([2, 3, 4, 5, 6]);
    expect(Array.from(outputs[1])).toEqual([1, 4, 9, 16, 25]);
  });

  it('refuses a kernel that loads an array after storing it, or leaves an argument unused', () => {
    const late = defineKernel({
      name: 'late',
      arrays: ['x', 'y'],
      scalars: [],
      values: () => ({}),
      body: ({ x, y }) => [x.store(sqrt(y.load())), y.store(sub(x.load(), y.load()))],
    });
    expect(() => runWasm(late, [new Float32Array(4), new Float32Array(4)], [])).toThrow(
      'kernel late: x is loaded after it is stored; load it (and keep the value) before the store',
    );
    expect(() =>
      defineKernel({
        name: 'unused',
        arrays: ['x', 'y'],
        scalars: ['a'],
        values: () => ({ a: 1 }),
        body: ({ x }) => [x.store(x.load())],
      }),
    ).toThrow('kernel unused: unused arguments y, a');
  });
});
