import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulate } from './aggregate.js';
import { GradientSum } from './gradient-sum.js';
import { OptimError } from './optim-error.js';
import { bits } from './test-support.js';

describe('GradientSum', () => {
  it('folds gradients to the bits of accumulate, −0, subnormals, infinities and the f32 tail included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }).chain((n) => fc.array(fc.float32Array({ minLength: n, maxLength: n, noNaN: true }), { minLength: 1, maxLength: 5 })),
        fc.boolean(),
        (grads, inPlace) => {
          const n = grads[0].length;
          const reference = new Float32Array(n);
          const sum = new GradientSum(n);
          for (const g of grads) {
            accumulate(reference, g);
            if (inPlace) {
              sum.term.set(g);
              sum.add(sum.term);
            } else {
              sum.add(g);
            }
          }
          expect(bits(sum.sum)).toEqual(bits(reference));
        },
      ),
    );
  });

  it('adds a large vector as accumulate does and starts again from +0 after reset', () => {
    const n = 100_003;
    const g = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
    const h = Float32Array.from({ length: n }, (_, i) => -Math.cos(i) * 10 ** ((i % 7) - 3));
    const reference = new Float32Array(n);
    accumulate(reference, g);
    accumulate(reference, h);
    const sum = new GradientSum(n);
    sum.add(g);
    sum.add(h);
    expect(bits(sum.sum)).toEqual(bits(reference));
    sum.reset();
    sum.add(Float32Array.of(-0, ...new Float32Array(n - 1)));
    expect(Object.is(sum.sum[0], 0)).toBe(true);
  });

  it('refuses a gradient of another length, naming both', () => {
    const sum = new GradientSum(4);
    expect(() => sum.add(new Float32Array(5))).toThrow(OptimError);
    expect(() => sum.add(new Float32Array(5))).toThrow(/GradientSum\.add.*g.*5/);
  });
});
