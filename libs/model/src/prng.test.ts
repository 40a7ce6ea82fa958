import { describe, expect, it } from 'vitest';
import { constant, fillInit, glorotUniform, heUniform } from './init.js';
import { ModelError } from './model-error.js';
import { streamState } from './prng.js';

describe('streamState', () => {
  it('keys streams by seed and tensor name', () => {
    expect(streamState(7, 'dense0/kernel')).toBe(streamState(7, 'dense0/kernel'));
    expect(streamState(7, 'dense0/kernel')).not.toBe(streamState(8, 'dense0/kernel'));
    expect(streamState(7, 'dense0/kernel')).not.toBe(streamState(7, 'dense1/kernel'));
    // Seeds that differ only above bit 32 must differ too.
    expect(streamState(5, 'w')).not.toBe(streamState(5 + 2 ** 32, 'w'));
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => streamState(bad, 'w')).toThrow(ModelError);
    }
    expect(() => streamState(-1, 'w')).toThrow(/seed -1 is not a non-negative integer/);
  });
});

describe('fillInit', () => {
  it('draws He-uniform values inside ±√(6/fanIn) with variance ≈ 2/fanIn', () => {
    const fanIn = 50;
    const out = new Float32Array(100_000);
    fillInit(out, heUniform(fanIn), 3, 'w');
    const limit = Math.sqrt(6 / fanIn); // 0.34641
    let sumSq = 0;
    let maxAbs = 0;
    for (const v of out) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      sumSq += v * v;
    }
    expect(maxAbs).toBeLessThanOrEqual(Math.fround(limit));
    expect(maxAbs).toBeGreaterThan(0.99 * limit);
    // U(−a, a) has variance a²/3 = 2/fanIn = 0.04; the sample variance of 1e5 draws has a
    // relative standard error of about √(0.8/1e5) ≈ 0.3 %.
    expect(sumSq / out.length).toBeGreaterThan(0.04 * 0.98);
    expect(sumSq / out.length).toBeLessThan(0.04 * 1.02);
  });

  it('scales the limit (Fixup) and computes Glorot limits', () => {
    expect(heUniform(8, 0.5)).toEqual({ kind: 'uniform', limit: 0.5 * Math.sqrt(6 / 8) });
    expect(glorotUniform(4, 2)).toEqual({ kind: 'uniform', limit: 1 }); // √(6/6)
  });

  it('fills constants and reproduces the same bits for the same seed and name', () => {
    const c = new Float32Array(3);
    fillInit(c, constant(1), 0, 'g');
    expect([...c]).toEqual([1, 1, 1]);
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    fillInit(a, heUniform(4), 11, 'k');
    fillInit(b, heUniform(4), 11, 'k');
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    fillInit(b, heUniform(4), 12, 'k');
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(false);
  });
});
