import { describe, expect, it } from 'vitest';
import type { Split } from './dataset-types.js';
import { gather } from './gather.js';

// Three samples of four pixels; 51/255 = 0.2, 102/255 = 0.4, 204/255 = 0.8 exactly in the reals,
// so the float32 results are fround(0.2), fround(0.4), fround(0.8).
const split: Split = {
  images: Uint8Array.of(0, 255, 51, 102, /* sample 1 */ 204, 0, 0, 255, /* sample 2 */ 102, 102, 51, 51),
  labels: Uint8Array.of(7, 3, 9),
  count: 3,
  features: 4,
};
const f = Math.fround;

describe('gather', () => {
  it('copies the samples in index order, pixels as byte/255 in float32, labels as int32', () => {
    const batch = gather(split, [2, 0, 2]);
    expect(batch.count).toBe(3);
    expect(batch.x).toEqual(Float32Array.of(f(0.4), f(0.4), f(0.2), f(0.2), 0, 1, f(0.2), f(0.4), f(0.4), f(0.4), f(0.2), f(0.2)));
    expect(batch.y).toEqual(Int32Array.of(9, 7, 9));
  });

  it('maps every byte to the float32 nearest b/255, which scales back to b', () => {
    const all: Split = { images: Uint8Array.from({ length: 256 }, (_, b) => b), labels: Uint8Array.of(0), count: 1, features: 256 };
    const { x } = gather(all, [0]);
    for (let b = 0; b < 256; b++) {
      expect(x[b]).toBe(Math.fround(b / 255));
      expect(Math.round(x[b] * 255)).toBe(b);
    }
  });

  it('writes into the caller’s buffers: the same arrays when sizes match, views when larger', () => {
    const out = { x: new Float32Array(8), y: new Int32Array(2) };
    const exact = gather(split, Uint32Array.of(1, 0), out);
    expect(exact.x).toBe(out.x);
    expect(exact.y).toBe(out.y);
    expect(out.x).toEqual(Float32Array.of(f(0.8), 0, 0, 1, 0, 1, f(0.2), f(0.4)));
    const big = { x: new Float32Array(12).fill(-1), y: new Int32Array(3).fill(-1) };
    const partial = gather(split, [1], big);
    expect(partial.x.buffer).toBe(big.x.buffer);
    expect([...partial.x]).toEqual([f(0.8), 0, 0, 1]);
    expect([...partial.y]).toEqual([3]);
    expect(big.x[4]).toBe(-1);
  });

  it('copies float images as they are', () => {
    const floats: Split = { images: Float32Array.of(0.5, -1, 3, 0.25), labels: Uint8Array.of(1, 2), count: 2, features: 2 };
    expect(gather(floats, [1, 0]).x).toEqual(Float32Array.of(3, 0.25, 0.5, -1));
  });

  it('rejects an index outside the split and a buffer too small, naming them', () => {
    expect(() => gather(split, [0, 3])).toThrow(expect.objectContaining({ code: 'E_DATA_OPTION', option: 'indices[1]', value: 3 }));
    expect(() => gather(split, [1.5])).toThrow(/indices\[0\] = 1.5/);
    expect(() => gather(split, [0, 1], { x: new Float32Array(7), y: new Int32Array(2) })).toThrow(/8 and 2/);
  });
});
