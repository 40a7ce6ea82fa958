import { describe, expect, it } from 'vitest';
import { ProtocolError, type ErrorCode } from './errors.js';
import { concatParts, decodeFrame, encodeFrame } from './frame.js';
import { packHeader } from './msgpack.js';
import { createWireStats } from './stats.js';

function codeOf(run: () => unknown): ErrorCode | 'no error' {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return 'no error';
}

/** A frame built byte by byte: prefix, header, zero padding to 8, then `data`. */
function rawFrame(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const packed = packHeader(header);
  const dataStart = Math.ceil((8 + packed.length) / 8) * 8;
  const frame = new Uint8Array(dataStart + data.length);
  frame.set([0x44, 0x50, 1, 0]);
  new DataView(frame.buffer).setUint32(4, packed.length, true);
  frame.set(packed, 8);
  frame.set(data, dataStart);
  return frame;
}

describe('encodeFrame', () => {
  it('lays out prefix, header, padding and 8-aligned tensors byte for byte', () => {
    const parts = encodeFrame({ k: 1 }, [
      { field: 'a', data: new Float32Array([1, -2, 0.5]) },
      { field: 'b', data: new Float32Array([3]) },
    ]);
    const frame = concatParts(parts);
    // Header = msgpack [{k: 1}, [["a","f32",0,3], ["b","f32",16,1]]]:
    //   92 | 81 a1 6b 01 | 92 | 94 a1 61 a3 66 33 32 00 03 | 94 a1 62 a3 66 33 32 10 01 = 24 bytes.
    const header = [0x92, 0x81, 0xa1, 0x6b, 0x01, 0x92, 0x94, 0xa1, 0x61, 0xa3, 0x66, 0x33, 0x32, 0x00, 0x03];
    header.push(0x94, 0xa1, 0x62, 0xa3, 0x66, 0x33, 0x32, 0x10, 0x01);
    // 8 + 24 = 32 is already a multiple of 8: no header padding. Tensor a: 12 bytes + 4 padding;
    // tensor b at data offset 16: 4 bytes + 4 padding. Total 32 + 16 + 8 = 56.
    expect(frame.length).toBe(56);
    expect([...frame.subarray(0, 8)]).toEqual([0x44, 0x50, 1, 0, 24, 0, 0, 0]);
    expect([...frame.subarray(8, 32)]).toEqual(header);
    // float32 little-endian: 1 = 00 00 80 3f, -2 = 00 00 00 c0, 0.5 = 00 00 00 3f, 3 = 00 00 40 40.
    expect([...frame.subarray(32, 56)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0, 0, 0, 0, 0x40, 0x40, 0, 0, 0, 0]);
  });

  it('hands tensors over as views of their own memory, not copies', () => {
    const data = new Float32Array(1000);
    const parts = encodeFrame({}, [{ field: 'x', data }]);
    expect(parts).toHaveLength(2);
    expect(parts[1].buffer).toBe(data.buffer);
    expect(parts[1].byteLength).toBe(4000);
  });
});

describe('decodeFrame', () => {
  it('returns Float32Array views over the received bytes when they are aligned (zero copies)', () => {
    const frame = concatParts(encodeFrame({ k: 1 }, [{ field: 'v', data: new Float32Array([1, 2, 3]) }]));
    const stats = createWireStats();
    const { body, tensors } = decodeFrame(frame, undefined, stats);
    expect(body).toEqual({ k: 1 });
    expect(tensors[0].field).toBe('v');
    expect(tensors[0].data.buffer).toBe(frame.buffer);
    // header [{k:1}, [["v","f32",0,3]]] is 15 bytes; 8 + 15 = 23 → data starts at 24.
    expect(tensors[0].data.byteOffset).toBe(frame.byteOffset + 24);
    expect([...tensors[0].data]).toEqual([1, 2, 3]);
    expect(stats.unalignedCopies).toBe(0);
  });

  it('copies once, and counts it, when the transport hands over a slice at an unaligned offset', () => {
    const frame = concatParts(encodeFrame({}, [{ field: 'v', data: new Float32Array([4, 5]) }]));
    const backing = new Uint8Array(frame.length + 2);
    backing.set(frame, 2);
    const stats = createWireStats();
    const { tensors } = decodeFrame(backing.subarray(2), undefined, stats);
    expect(tensors[0].data.buffer).not.toBe(backing.buffer);
    expect([...tensors[0].data]).toEqual([4, 5]);
    expect(stats.unalignedCopies).toBe(1);
  });

  it('keeps every tensor of a copied frame in one new buffer', () => {
    const frame = concatParts(
      encodeFrame({}, [
        { field: 'a', data: new Float32Array([1, 2, 3]) },
        { field: 'b', data: new Float32Array([7]) },
      ]),
    );
    const backing = new Uint8Array(frame.length + 1);
    backing.set(frame, 1);
    const stats = createWireStats();
    const { tensors } = decodeFrame(backing.subarray(1), undefined, stats);
    expect(tensors[0].data.buffer).toBe(tensors[1].data.buffer);
    expect([...tensors[1].data]).toEqual([7]);
    expect(stats.unalignedCopies).toBe(1);
  });

  it('refuses frames that break the layout with the exact code', () => {
    const good = concatParts(encodeFrame({ k: 1 }, [{ field: 'v', data: new Float32Array([1]) }]));
    expect(codeOf(() => decodeFrame(good.subarray(0, 7)))).toBe('E_MALFORMED');
    const badMagic = good.slice();
    badMagic[0] = 0x58;
    expect(codeOf(() => decodeFrame(badMagic))).toBe('E_MALFORMED');
    const badFormat = good.slice();
    badFormat[2] = 2;
    expect(codeOf(() => decodeFrame(badFormat))).toBe('E_MALFORMED');
    const longHeader = good.slice();
    new DataView(longHeader.buffer).setUint32(4, 1000, true);
    expect(codeOf(() => decodeFrame(longHeader))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(good, 10))).toBe('E_TOO_LARGE');
    const trailing = new Uint8Array(good.length + 8);
    trailing.set(good);
    expect(codeOf(() => decodeFrame(trailing))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(good.subarray(0, good.length - 8)))).toBe('E_MALFORMED');
  });

  it('refuses tensor tables that overlap, overrun, misalign, repeat or name another dtype', () => {
    const data = new Uint8Array(16);
    const table = (...entries: unknown[]) => rawFrame([{}, entries], data);
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, 4])))).toBe('no error');
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, 5])))).toBe('E_MALFORMED'); // 20 > 16 bytes
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 4, 1])))).toBe('E_MALFORMED'); // offset not 8-aligned
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, 3], ['b', 'f32', 8, 1])))).toBe('E_MALFORMED'); // overlap
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, 1], ['a', 'f32', 8, 1])))).toBe('E_MALFORMED'); // repeat
    expect(codeOf(() => decodeFrame(table(['a', 'f64', 0, 2])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, -1])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(rawFrame([{}, []], data)))).toBe('E_MALFORMED'); // unclaimed bytes
    expect(codeOf(() => decodeFrame(rawFrame({ not: 'an array' })))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(rawFrame([[], []])))).toBe('E_MALFORMED');
  });
});
