import { describe, expect, it } from 'vitest';
import { f32x4Add, i32Const, sleb128, uleb128, v128Load } from './instructions.js';

describe('LEB128', () => {
  it('encodes unsigned integers 7 bits at a time, low group first, high bit = more to come', () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(127)).toEqual([0x7f]);
    // 128 = 0b1_0000000: low group 0 with the continuation bit, then 1
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    // 624485 = 0b100110_0001110_1100101 → 0xE5 0x8E 0x26 (the example of the LEB128 article)
    expect(uleb128(624_485)).toEqual([0xe5, 0x8e, 0x26]);
    // 2^32 − 1: four groups of 7 ones, then 0b1111
    expect(uleb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => uleb128(-1)).toThrow(RangeError);
    expect(() => uleb128(2 ** 32)).toThrow(RangeError);
  });

  it('encodes signed integers in two’s complement, stopping once the sign bit (0x40) is right', () => {
    expect(sleb128(0)).toEqual([0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(63)).toEqual([0x3f]);
    // 64 has bit 6 set, which would read as negative: one more group
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    // −16 = …1110000: one group 0x70 (sign bit set)
    expect(sleb128(-16)).toEqual([0x70]);
    // −123456 → 0xC0 0xBB 0x78 (the example of the LEB128 article)
    expect(sleb128(-123_456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb128(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(() => sleb128(2 ** 31)).toThrow(RangeError);
  });

  it('puts immediates and SIMD opcode numbers in LEB128', () => {
    expect(i32Const(-16)).toEqual([0x41, 0x70]);
    // f32x4.add is SIMD opcode 228 = 0xE4, which needs two LEB128 bytes
    expect(f32x4Add()).toEqual([0xfd, 0xe4, 0x01]);
    // v128.load is opcode 0 with memarg (align 2^4, offset 0)
    expect(v128Load()).toEqual([0xfd, 0x00, 0x04, 0x00]);
  });
});
