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

describe('u8 tensors', () => {
  it('lay out as a table entry of dtype "u8" and their raw bytes, padded to 8, after the float32 ones', () => {
    const frame = concatParts(
      encodeFrame({ k: 1 }, [
        { field: 'a', data: new Float32Array([1]) },
        { field: 'b', data: Uint8Array.of(7, 8, 9) },
      ]),
    );
    // Header = msgpack [{k: 1}, [["a","f32",0,1], ["b","u8",8,3]]]:
    //   92 | 81 a1 6b 01 | 92 | 94 a1 61 a3 66 33 32 00 01 | 94 a1 62 a2 75 38 08 03 = 23 bytes.
    const header = [0x92, 0x81, 0xa1, 0x6b, 0x01, 0x92, 0x94, 0xa1, 0x61, 0xa3, 0x66, 0x33, 0x32, 0x00, 0x01];
    header.push(0x94, 0xa1, 0x62, 0xa2, 0x75, 0x38, 0x08, 0x03);
    // 8 + 23 = 31 → data at 32; a: 4 bytes + 4 padding; b at data offset 8: 3 bytes + 5 padding. Total 48.
    expect([...frame.subarray(0, 8)]).toEqual([0x44, 0x50, 1, 0, 23, 0, 0, 0]);
    expect([...frame.subarray(8, 31)]).toEqual(header);
    expect([...frame.subarray(32)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0]);
  });

  it('round-trip with float32 ones as Uint8Array views of the received bytes, whatever the lengths', () => {
    for (const length of [0, 1, 7, 8, 9, 50_177]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31) & 0xff);
      const frame = concatParts(
        encodeFrame({ n: length }, [
          { field: 'x', data: new Float32Array([0.5, -3]) },
          { field: 'images', data: bytes },
          { field: 'labels', data: Uint8Array.of(255, 0, 1) },
        ]),
      );
      const stats = createWireStats();
      const { body, tensors } = decodeFrame(frame, undefined, stats);
      expect(body).toEqual({ n: length });
      expect(tensors.map((t) => [t.field, t.data.constructor.name, t.data.length])).toEqual([
        ['x', 'Float32Array', 2],
        ['images', 'Uint8Array', length],
        ['labels', 'Uint8Array', 3],
      ]);
      expect(Buffer.from(tensors[1].data.buffer, tensors[1].data.byteOffset, tensors[1].data.byteLength).equals(bytes)).toBe(true);
      expect([...tensors[2].data]).toEqual([255, 0, 1]);
      expect(tensors[1].data.buffer).toBe(frame.buffer);
      expect(stats.unalignedCopies).toBe(0);
    }
  });

  it('are never copied for alignment when the frame has no float32 tensor; are copied along with one that needs it', () => {
    const only = concatParts(encodeFrame({}, [{ field: 'b', data: Uint8Array.of(1, 2, 3) }]));
    const backing = new Uint8Array(only.length + 1);
    backing.set(only, 1);
    const stats = createWireStats();
    const [b] = decodeFrame(backing.subarray(1), undefined, stats).tensors;
    expect(b.data.buffer).toBe(backing.buffer);
    expect([...b.data]).toEqual([1, 2, 3]);
    expect(stats.unalignedCopies).toBe(0);

    const mixed = concatParts(
      encodeFrame({}, [
        { field: 'f', data: new Float32Array([2.5]) },
        { field: 'b', data: Uint8Array.of(4, 5) },
      ]),
    );
    const shifted = new Uint8Array(mixed.length + 2);
    shifted.set(mixed, 2);
    const [f, u] = decodeFrame(shifted.subarray(2), undefined, stats).tensors;
    expect(f.data.buffer).toBe(u.data.buffer);
    expect([f.data[0], ...u.data]).toEqual([2.5, 4, 5]);
    expect(stats.unalignedCopies).toBe(1);
  });

  it('refuses u8 entries that overrun, misalign, overlap or declare hostile lengths, as strictly as f32 ones', () => {
    const data = new Uint8Array(16);
    const table = (...entries: unknown[]) => rawFrame([{}, entries], data);
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 16])))).toBe('no error');
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 9])))).toBe('no error'); // 9 bytes + 7 padding
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 17])))).toBe('E_MALFORMED'); // 17 > 16 bytes
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 8])))).toBe('E_MALFORMED'); // 8 bytes unclaimed
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 3, 1])))).toBe('E_MALFORMED'); // offset not 8-aligned
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 9], ['b', 'u8', 8, 1])))).toBe('E_MALFORMED'); // overlap
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 1], ['b', 'f32', 8, 3])))).toBe('E_MALFORMED'); // 12 bytes past 16
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, -1])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, 1.5])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 0, Number.MAX_SAFE_INTEGER])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'f32', 0, 2 ** 51])))).toBe('E_MALFORMED'); // 4 × length is not a safe integer
    expect(codeOf(() => decodeFrame(table(['a', 'u8', 2 ** 53 - 8, 1])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'U8', 0, 16])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'u16', 0, 8])))).toBe('E_MALFORMED');
    expect(codeOf(() => decodeFrame(table(['a', 'u8', '0', 16])))).toBe('E_MALFORMED');
  });
});
