import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulate, meanInOrder, scale, scaleFromZero } from './aggregate.js';
import { bits, expectClose } from './test-support.js';

describe('gradient aggregation in micro-batch order', () => {
  it('is the mean of the micro-batch gradients', () => {
    const out = new Float32Array(2);
    // ([1, 2] + [3, 4] + [5, 7])/3 = [3, 13/3]
    meanInOrder([Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 7)], out);
    expectClose(out, [3, 13 / 3]);
  });

  it('depends on the order, which is why the order is fixed', () => {
    // In float32, 2^24 + 1 rounds to 2^24: (2^24 + 1) − 2^24 = 0 but (2^24 − 2^24) + 1 = 1.
    const big = Float32Array.of(2 ** 24);
    const one = Float32Array.of(1);
    const minusBig = Float32Array.of(-(2 ** 24));
    expect(meanInOrder([big, one, minusBig], new Float32Array(1))[0]).toBe(0);
    expect(meanInOrder([big, minusBig, one], new Float32Array(1))[0]).toBe(Math.fround(1 / 3));
  });

  it('scaleFromZero gives the bits of accumulate into zeros then scale, −0, subnormals and overflow included', () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, maxLength: 40 }), fc.constantFrom(1, 1 / 2, 1 / 3, 1 / 4, 1 / 7, 1e-30, 3e38), (g, factor) => {
        const twoPasses = new Float32Array(g.length);
        accumulate(twoPasses, g);
        scale(twoPasses, factor);
        const onePass = new Float32Array(g.length).fill(Number.NaN);
        scaleFromZero(onePass, g, factor);
        expect(bits(onePass)).toEqual(bits(twoPasses));
      }),
    );
    // The case a plain copy-and-scale gets wrong: −0 in the gradient.
    const out = new Float32Array(1);
    scaleFromZero(out, Float32Array.of(-0), 0.5);
    expect(Object.is(out[0], 0)).toBe(true);
  });

  it('accumulate + scale as a server would run them equal meanInOrder bit for bit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((m) =>
          fc.array(fc.float32Array({ minLength: 5, maxLength: 5, noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }), {
            minLength: m,
            maxLength: m,
          }),
        ),
        (grads) => {
          const server = new Float32Array(5);
          for (const g of grads) accumulate(server, g);
          scale(server, 1 / grads.length);
          const trainer = meanInOrder(grads, new Float32Array(5));
          expect(bits(trainer)).toEqual(bits(server));
          // and both are float32 arithmetic: round after every addition and after the scaling
          const reference = Float32Array.from({ length: 5 }, (_, i) => {
            let acc = 0;
            for (const g of grads) acc = Math.fround(acc + g[i]);
            return Math.fround(acc * (1 / grads.length));
          });
          expect(bits(trainer)).toEqual(bits(reference));
        },
      ),
    );
  });

  it('refuses an empty list and mismatched lengths', () => {
    expect(() => meanInOrder([], new Float32Array(3))).toThrow(/grads is empty/);
    expect(() => accumulate(new Float32Array(3), new Float32Array(4))).toThrow(
      /g must be a Float32Array of 3 elements \(the parameter count\), got 4 elements/,
    );
  });
});
