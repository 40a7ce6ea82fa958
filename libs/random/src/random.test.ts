import { describe, expect, it } from 'vitest';
import { deriveSeed, fmix32, Mulberry32 } from './index.js';

const M32 = (1n << 32n) - 1n;

/** mulberry32 written again with BigInt arithmetic mod 2³²: an oracle that shares no Math.imul or `| 0` tricks. */
function* referenceMulberry32(seed: number): Generator<number> {
  let state = BigInt(seed);
  const mul = (a: bigint, b: bigint): bigint => (a * b) & M32;
  for (;;) {
    state = (state + 0x6d2b79f5n) & M32;
    let t = state;
    t = mul(t ^ (t >> 15n), t | 1n);
    t = (t ^ ((t + mul(t ^ (t >> 7n), t | 61n)) & M32)) & M32;
    yield Number(t ^ (t >> 14n));
  }
}

function referenceFmix32(h: number): number {
  let x = BigInt(h);
  x ^= x >> 16n;
  x = (x * 0x85ebca6bn) & M32;
  x ^= x >> 13n;
  x = (x * 0xc2b2ae35n) & M32;
  x ^= x >> 16n;
  return Number(x);
}

/** A generator whose raw outputs are scripted, to check what is built on top of them. */
class Scripted extends Mulberry32 {
  constructor(private readonly outputs: number[]) {
    super(0);
  }
  override nextUint32(): number {
    const next = this.outputs.shift();
    if (next === undefined) throw new Error('script exhausted');
    return next;
  }
}

describe('Mulberry32', () => {
  it.each([0, 1, 42, 0x7fffffff, 0xffffffff])('matches the BigInt reference for seed %i over 2,000 outputs', (seed) => {
    const rng = new Mulberry32(seed);
    const reference = referenceMulberry32(seed);
    for (let i = 0; i < 2000; i++) expect(rng.nextUint32()).toBe(reference.next().value);
  });

  it('nextFloat is the integer output divided by 2³²', () => {
    const a = new Mulberry32(7);
    const b = new Mulberry32(7);
    for (let i = 0; i < 100; i++) expect(a.nextFloat()).toBe(b.nextUint32() / 4294967296);
  });

  it('nextBelow rejects outputs at or above the largest multiple of n, then takes the remainder', () => {
    // n = 3: 2³² mod 3 = 1, so the limit is 2³² − 1 and only 0xFFFFFFFF is rejected; 7 mod 3 = 1.
    expect(new Scripted([0xffffffff, 7]).nextBelow(3)).toBe(1);
    // n = 2³¹ + 1: 2³² mod n = 2³¹ − 1, limit = 2³¹ + 1, so 2³¹ + 1 is rejected; 2³¹ mod n = 2³¹.
    expect(new Scripted([2 ** 31 + 1, 2 ** 31]).nextBelow(2 ** 31 + 1)).toBe(2 ** 31);
    // n = 4 divides 2³²: nothing is rejected, 0xFFFFFFFF mod 4 = 3.
    expect(new Scripted([0xffffffff]).nextBelow(4)).toBe(3);
  });

  it('nextBelow(6) is uniform: 60,000 draws land within 4σ of 10,000 per face', () => {
    const rng = new Mulberry32(2024);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.nextBelow(6)]++;
    // σ = sqrt(60000 · 1/6 · 5/6) ≈ 91.3, 4σ ≈ 365.
    for (const count of counts) expect(Math.abs(count - 10000)).toBeLessThan(365);
  });
});

describe('fmix32 and deriveSeed', () => {
  it('fmix32 matches the BigInt reference, including the known fixed point fmix32(0) = 0', () => {
    expect(fmix32(0)).toBe(0);
    for (const h of [1, 2, 0xdeadbeef, 0xffffffff, 123456789]) expect(fmix32(h)).toBe(referenceFmix32(h));
  });

  it('deriveSeed chains fmix32 as documented', () => {
    // One key: h = fmix32(seed ^ fmix32(key + 0x9E3779B9)).
    expect(deriveSeed(5, 3)).toBe(referenceFmix32(Number((5n ^ BigInt(referenceFmix32(3 + 0x9e3779b9))) & M32)));
    // No keys: the seed itself; keys change it and the order of keys matters.
    expect(deriveSeed(5)).toBe(5);
    expect(deriveSeed(5, 1, 2)).not.toBe(deriveSeed(5, 2, 1));
    expect(deriveSeed(5, 1, 0)).not.toBe(deriveSeed(5, 1, 1));
    expect(deriveSeed(5, 1, 0)).not.toBe(deriveSeed(6, 1, 0));
  });
});

describe('Mulberry32 against outputs computed elsewhere', () => {
  it('matches the reference C algorithm (outputs computed independently in Python)', () => {
    // z += 0x6D2B79F5; z = (z ^ z>>15)·(z | 1); z ^= z + (z ^ z>>7)·(z | 61); return z ^ z>>14
    // state 0 → 1144304738, 1416247, 958946056; state 1 → 2693262067, 11749833, 2265367787.
    const a = new Mulberry32(0);
    expect([a.nextUint32(), a.nextUint32(), a.nextUint32()]).toEqual([1144304738, 1416247, 958946056]);
    const b = new Mulberry32(1);
    expect([b.nextUint32(), b.nextUint32(), b.nextUint32()]).toEqual([2693262067, 11749833, 2265367787]);
  });
});
