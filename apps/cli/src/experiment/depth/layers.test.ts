import { describe, expect, it } from 'vitest';
import { depthSpread, kernelNorms } from './layers.js';

describe('kernelNorms', () => {
  it('keeps the weight tensors in order, numbered from the input', () => {
    const record = {
      kind: 'layers' as const,
      step: 1,
      epoch: 1,
      names: ['stem/kernel', 'stem/bn/gamma', 'block0/conv0/kernel', 'block0/conv0/bias', 'logits/kernel'],
      gradNorms: [1, 9, 0.01, 9, 4],
      updateRatios: [],
    };
    expect(kernelNorms(record)).toEqual([
      { layer: 'stem', depth: 0, gradNorm: 1 },
      { layer: 'block0/conv0', depth: 1, gradNorm: 0.01 },
      { layer: 'logits', depth: 2, gradNorm: 4 },
    ]);
  });
});

describe('depthSpread', () => {
  it('is the largest over the smallest non-zero norm', () => {
    expect(
      depthSpread([
        { layer: 'a', depth: 0, gradNorm: 0.01 },
        { layer: 'b', depth: 1, gradNorm: 0 },
        { layer: 'c', depth: 2, gradNorm: 4 },
      ]),
    ).toBe(400);
    expect(
      depthSpread([
        { layer: 'a', depth: 0, gradNorm: 2 },
        { layer: 'b', depth: 1, gradNorm: 0 },
      ]),
    ).toBeNull();
  });
});
