import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Split } from './dataset-types.js';
import { subset } from './subset.js';
import { holdoutSplit, kFold } from './validation-splits.js';
import type { SplitIndices } from './validation-splits.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (a: Iterable<number>): number[] => [...a].sort((x, y) => x - y);
const countOf = (labels: ArrayLike<number>, indices: Uint32Array, label: number): number => [...indices].filter((i) => labels[i] === label).length;

function expectPartition(split: SplitIndices, count: number): void {
  expect(sorted([...split.train, ...split.validation])).toEqual(range(count));
  expect([...split.train]).toEqual(sorted(split.train));
  expect([...split.validation]).toEqual(sorted(split.validation));
}

describe('holdoutSplit', () => {
  it('holds out round(fraction × count) samples, ascending, disjoint from the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (count, fraction, seed) => {
          const take = Math.round(fraction * count);
          fc.pre(take >= 1 && take <= count - 1);
          const split = holdoutSplit({ count }, { fraction, seed });
          expect(split.validation.length).toBe(take);
          expectPartition(split, count);
          expect(holdoutSplit({ count }, { fraction, seed })).toEqual(split);
        },
      ),
    );
  });

  it('stratified, holds out round(fraction × classCount) of each class', () => {
    // 6 of class 0 and 4 of class 1, fraction 0.5 → 3 and 2 held out.
    const labels = Uint8Array.of(0, 1, 0, 0, 1, 0, 1, 0, 0, 1);
    const split = holdoutSplit({ count: 10, labels }, { fraction: 0.5, seed: 9, stratify: true });
    expectPartition(split, 10);
    expect([countOf(labels, split.validation, 0), countOf(labels, split.validation, 1)]).toEqual([3, 2]);
  });

  it('depends on the seed', () => {
    expect(holdoutSplit({ count: 100 }, { fraction: 0.2, seed: 1 }).validation).not.toEqual(
      holdoutSplit({ count: 100 }, { fraction: 0.2, seed: 2 }).validation,
    );
  });

  it('rejects a fraction outside (0, 1), an empty side, and stratifying without labels', () => {
    expect(() => holdoutSplit({ count: 10 }, { fraction: 1, seed: 0 })).toThrow(
      expect.objectContaining({ code: 'E_DATA_OPTION', option: 'fraction', value: 1 }),
    );
    expect(() => holdoutSplit({ count: 10 }, { fraction: 0.01, seed: 0 })).toThrow(/leaves 10 for training and 0 for validation/);
    expect(() => holdoutSplit({ count: 10 }, { fraction: 0.5, seed: 0, stratify: true })).toThrow(
      /stratify needs one label per sample: got no labels for 10 samples/,
    );
  });
});

describe('kFold', () => {
  it('deals the shuffled samples round-robin: fold sizes ⌈n/k⌉ then ⌊n/k⌋, each sample validated once', () => {
    // 10 samples, 3 folds: 10 = 4 + 3 + 3.
    const folds = kFold({ count: 10 }, { k: 3, seed: 4 });
    expect(folds.map((f) => f.validation.length)).toEqual([4, 3, 3]);
    expect(sorted(folds.flatMap((f) => [...f.validation]))).toEqual(range(10));
    for (const fold of folds) expectPartition(fold, 10);
  });

  it('stratified, keeps every class within one sample of its share in every fold', () => {
    // Class 0 (7 samples) takes dealing positions 0..6 → folds 0,1,2,0,1,2,0 → 3,2,2;
    // class 1 (5 samples) takes positions 7..11 → folds 1,2,0,1,2 → 1,2,2.
    const labels = Uint8Array.of(1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1);
    const folds = kFold({ count: 12, labels }, { k: 3, seed: 11, stratify: true });
    expect(folds.map((f) => [countOf(labels, f.validation, 0), countOf(labels, f.validation, 1)])).toEqual([
      [3, 1],
      [2, 2],
      [2, 2],
    ]);
    for (const fold of folds) expectPartition(fold, 12);
  });

  it('supports leave-one-out (k = count) and rejects k outside 2..count', () => {
    const folds = kFold({ count: 300 }, { k: 300, seed: 0 });
    expect(folds.every((f) => f.validation.length === 1)).toBe(true);
    expect(sorted(folds.map((f) => f.validation[0]))).toEqual(range(300));
    expect(() => kFold({ count: 10 }, { k: 1, seed: 0 })).toThrow(expect.objectContaining({ option: 'k', value: 1 }));
    expect(() => kFold({ count: 3 }, { k: 4, seed: 0 })).toThrow(/k = 4, count = 3/);
  });
});

describe('subset', () => {
  it('copies the chosen samples in order into a new split', () => {
    const split: Split = { images: Uint8Array.of(1, 2, 3, 4, 5, 6), labels: Uint8Array.of(0, 1, 2), count: 3, features: 2 };
    const part = subset(split, Uint32Array.of(2, 0));
    expect(part).toEqual({ images: Uint8Array.of(5, 6, 1, 2), labels: Uint8Array.of(2, 0), count: 2, features: 2 });
    part.images[0] = 99;
    expect(split.images[4]).toBe(5);
    expect(() => subset(split, [3])).toThrow(expect.objectContaining({ option: 'indices[0]', value: 3 }));
  });
});
