/**
 * The one pseudo-random generator of dptrain, behind every shuffle, split, generated sample,
 * initial weight and fault schedule, so that a (seed, purpose, index) triple means the same numbers
 * in every process on every platform: only 32-bit integer arithmetic (`Math.imul`, shifts, xor),
 * no floating-point library calls.
 *
 * Generator: mulberry32 (Tommy Ettinger, 2017). A 32-bit state advanced by the Weyl increment
 * 0x6D2B79F5; each output is a bijective mix of the new state:
 *
 *     state = (state + 0x6D2B79F5) mod 2³²
 *     t = state
 *     t = imul(t ^ (t >>> 15), t | 1)
 *     t ^= t + imul(t ^ (t >>> 7), t | 61)
 *     output = (t ^ (t >>> 14)) >>> 0
 *
 * Period 2³², ample for shuffling 60,000 indices once per epoch from a fresh derived seed.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next output, uniform over the integers 0..2³²−1. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform on [0, 1) with 32 bits of resolution: `nextUint32() / 2³²`. */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /**
   * Uniform over the integers 0..n−1, exactly (no modulo bias): outputs at or above the largest
   * multiple of n below 2³² are rejected and redrawn, then the remainder mod n is returned.
   * @param n an integer in [1, 2³²]
   */
  nextBelow(n: number): number {
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }
}
