import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededPermutation, shuffleInPlace } from './permutation.js';
import { Mulberry32 } from '@dptrain/random';

class Scripted extends Mulberry32 {
  constructor(private readonly outputs: number[]) {
    super(0);
  }
  override nextUint32(): number {
    return this.outputs.shift()!;
  }
}

describe('Fisher–Yates', () => {
  it('swaps i with nextBelow(i + 1) from the end, as documented', () => {
    // [0,1,2,3]; i=3: j = 5 mod 4 = 1 → [0,3,2,1]; i=2: j = 1 mod 3 = 1 → [0,2,3,1]; i=1: j = 1 mod 2 = 1 → unchanged.
    expect([...shuffleInPlace(Uint32Array.of(0, 1, 2, 3), new Scripted([5, 1, 1]))]).toEqual([0, 2, 3, 1]);
    // Draws 0 everywhere: i=3 ↔ 0 → [3,1,2,0]; i=2 ↔ 0 → [2,1,3,0]; i=1 ↔ 0 → [1,2,3,0].
    expect([...shuffleInPlace(Uint32Array.of(0, 1, 2, 3), new Scripted([0, 0, 0]))]).toEqual([1, 2, 3, 0]);
  });

  it('always yields a permutation of 0..n−1 that depends only on (n, seed)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (n, seed) => {
        const p = seededPermutation(n, seed);
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(seededPermutation(n, seed)).toEqual(p);
      }),
    );
  });

  it('makes the 6 permutations of 3 elements equally likely over 6,000 seeds', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6000; seed++) {
      const key = seededPermutation(3, seed).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // σ = sqrt(6000 · 1/6 · 5/6) ≈ 28.9; allow 5σ.
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(145);
  });
});
