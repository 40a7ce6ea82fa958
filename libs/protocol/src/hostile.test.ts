import { describe, expect, it } from 'vitest';
import { decodeMessage } from './codec.js';
import { ProtocolError, type ErrorCode } from './errors.js';

/** A frame around raw msgpack header bytes (no tensors), as a hostile peer can send. */
function frameAround(header: number[] | Uint8Array): Uint8Array {
  const dataStart = Math.ceil((8 + header.length) / 8) * 8;
  const frame = new Uint8Array(dataStart);
  frame.set([0x44, 0x50, 1, 0]);
  new DataView(frame.buffer).setUint32(4, header.length, true);
  frame.set(header, 8);
  return frame;
}

const str = (s: string): number[] => {
  const bytes = [...Buffer.from(s, 'utf8')];
  if (bytes.length > 31) throw new RangeError('fixstr only');
  return [0xa0 | bytes.length, ...bytes];
};

/** [ {type: "status", seq: 0, ...extra}, [] ] with `extra` already encoded as key/value bytes. */
function statusWith(extraPairs: number, extra: number[]): number[] {
  return [0x92, 0x80 | (2 + extraPairs), ...str('type'), ...str('status'), ...str('seq'), 0x00, ...extra, 0x90];
}

function refusal(frame: Uint8Array): ProtocolError {
  try {
    decodeMessage(frame);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw new Error(`threw a non-protocol error: ${String(error)}`, { cause: error });
  }
  throw new Error('the frame was accepted');
}

function expectRefused(frame: Uint8Array, code: ErrorCode, text: string | RegExp): void {
  const error = refusal(frame);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(text);
}

describe('decoder hazards', () => {
  it('accepts the plain baseline the hostile frames are built from', () => {
    expect(decodeMessage(frameAround(statusWith(0, [])))).toEqual({ type: 'status', seq: 0 });
  });

  it('refuses malformed msgpack', () => {
    // 0xc1 is "never used" in msgpack; msgpackr decodes it to an internal marker object.
    expectRefused(frameAround([0xc1]), 'E_MALFORMED', /^E_MALFORMED: header /);
    expectRefused(frameAround([0x92, 0x81]), 'E_MALFORMED', /not one valid msgpack value/); // truncated
    expectRefused(frameAround([0xc0, 0xc0]), 'E_MALFORMED', /not one valid msgpack value/); // two values
  });

  it('refuses __proto__ keys without touching Object.prototype', () => {
    // {"__proto__": {"polluted": true}} inside the message map.
    const frame = frameAround(statusWith(1, [...str('__proto__'), 0x81, ...str('polluted'), 0xc3]));
    expectRefused(frame, 'E_MALFORMED', /forbidden key "__proto_"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectRefused(frameAround(statusWith(1, [...str('constructor'), 0x01])), 'E_MALFORMED', /forbidden key "constructor"/);
  });

  it('refuses unknown extension types', () => {
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xd4, 0x33, 0x00])), 'E_MALFORMED', /Unknown extension 51/);
  });

  it('refuses extension types msgpackr knows, whatever object they decode to', () => {
    // RegExp (0x78): fixext1 78 00, then ["ab+", "g"].
    const regexp = [0xd4, 0x78, 0x00, 0x92, ...str('ab+'), ...str('g')];
    expectRefused(frameAround(statusWith(1, [...str('x'), ...regexp])), 'E_MALFORMED', /decodes to a RegExp/);
    // Date (timestamp, -1): fixext4 ff 00000000.
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xd6, 0xff, 0, 0, 0, 0])), 'E_MALFORMED', /decodes to a Date/);
    // BigInt (0x42): ext8 length 1.
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xc7, 0x01, 0x42, 0x01])), 'E_MALFORMED', /is a bigint/);
    // Typed array (0x74): ext8 length 2, Int8Array of [-1].
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xc7, 0x02, 0x74, 0x00, 0xff])), 'E_MALFORMED', /decodes to a Int8Array/);
    // Error (0x65) with a null payload makes msgpackr itself throw.
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xd4, 0x65, 0x00, 0xc0])), 'E_MALFORMED', /not one valid msgpack value/);
    // Extension 0 decodes to undefined.
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xd4, 0x00, 0x00])), 'E_MALFORMED', /is a undefined/);
  });

  it('refuses deep nesting, whether it exhausts the stack or only the depth limit', () => {
    const deep = new Uint8Array(100_001).fill(0x91);
    deep[100_000] = 0xc0;
    expectRefused(frameAround(deep), 'E_MALFORMED', /not one valid msgpack value.*call stack/);
    const moderate = [...new Array(20).fill(0x91), 0xc0];
    expectRefused(frameAround(moderate), 'E_MALFORMED', /nested deeper than 16 levels/);
  });

  it('refuses huge declared lengths without allocating them', () => {
    expectRefused(frameAround([0xdd, 0xff, 0xff, 0xff, 0xff]), 'E_MALFORMED', /Unexpected end/); // array32 of 4 G
    expectRefused(frameAround([0xdf, 0xff, 0xff, 0xff, 0xff]), 'E_MALFORMED', /Unexpected end/); // map32
    expectRefused(frameAround([0xdb, 0xff, 0xff, 0xff, 0xff]), 'E_MALFORMED', /not one valid msgpack value/); // str32
    expectRefused(frameAround([0xc6, 0xff, 0xff, 0xff, 0xff]), 'E_MALFORMED', /not one valid msgpack value/); // bin32
    // 2,000 nested array16 headers each declaring 65,535 elements: 131 M slots if pre-allocated.
    const nested = new Uint8Array(3 * 2000);
    for (let i = 0; i < 2000; i++) nested.set([0xdc, 0xff, 0xff], 3 * i);
    expectRefused(frameAround(nested), 'E_MALFORMED', /not one valid msgpack value/);
  });

  it('refuses a frame whose prefix declares a header longer than the default limit', () => {
    const frame = frameAround([0xc0]);
    new DataView(frame.buffer).setUint32(4, 0xffffffff, true);
    expectRefused(frame, 'E_TOO_LARGE', /header of 4294967295 bytes exceeds maxHeaderBytes 262144/);
  });

  it('refuses NaN and Infinity encoded as msgpack floats', () => {
    const nan = [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0];
    expectRefused(frameAround(statusWith(1, [...str('x'), ...nan])), 'E_NON_FINITE', /header\[0\]\.x is NaN/);
    const infinity32 = [0xca, 0x7f, 0x80, 0, 0];
    expectRefused(frameAround(statusWith(1, [...str('x'), ...infinity32])), 'E_NON_FINITE', /is Infinity/);
  });

  it('refuses binary blobs inside the header (tensors travel after it)', () => {
    expectRefused(frameAround(statusWith(1, [...str('x'), 0xc4, 0x02, 1, 2])), 'E_MALFORMED', /decodes to a (Buffer|Uint8Array)/);
  });
});
