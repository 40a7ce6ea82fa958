import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder, decodeMessage, encodeMessage, type Decoder } from './codec.js';
import { ProtocolError } from './errors.js';
import { concatParts, encodeFrame, type FrameTensor } from './frame.js';
import { TENSOR_FIELDS } from './messages.js';
import { anyMessage } from './testing/arbitraries.js';

const mutation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(frame: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Buffer.from(frame);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.op === 'set' && bytes.length > 0) bytes[at] = m.byte;
    else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.op === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    else if (m.op === 'truncate') bytes = bytes.subarray(0, at);
  }
  // A fresh, aligned copy, as a transport would deliver it.
  return new Uint8Array(bytes);
}

let frames = 0;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** The decoder must return a message that is valid by the sender's own rules, or throw a ProtocolError. */
function decodeOrRefuse(decode: Decoder, frame: Uint8Array): void {
  frames++;
  let msg;
  try {
    msg = decode(frame);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`decoder threw ${String(error)}`, { cause: error });
    expect(error.code).toMatch(/^E_[A-Z_]+$/);
    return;
  }
  expect(() => encodeMessage(msg)).not.toThrow();
}

describe('decoder and validator fuzzing', () => {
  it('survive 10,000+ mutated and random frames with nothing but typed refusals', () => {
    const shard = createDecoder({ paramCount: 48, slice: { offset: 8, length: 16 }, bnStatsLength: 5 });
    fc.assert(
      fc.property(anyMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (msg, mutations) => {
        const frame = mutate(concatParts(encodeMessage(msg)), mutations);
        decodeOrRefuse(decodeMessage, frame);
        decodeOrRefuse(shard, frame);
      }),
      { numRuns: 3_000 },
    );
    // Well-framed messages with one field replaced or added, so the schema and content checks run.
    const value = fc.oneof(
      fc.integer({ min: -10, max: 10 }),
      fc.double(),
      fc.maxSafeInteger(),
      fc.constant(2 ** 60),
      fc.string({ maxLength: 8 }),
      fc.constantFrom(null, true, [], {}, [1, 2], 'push'),
    );
    const key = fc.oneof(fc.constantFrom('type', 'seq', 're', 'step', 'offset', 'length', 'microBatchIds', 'losses', 'code'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(anyMessage, key, value, (msg, field, replacement) => {
        const tensors = TENSOR_FIELDS[msg.type];
        const body: Record<string, unknown> = {};
        const carried: FrameTensor[] = [];
        for (const [name, item] of Object.entries(msg)) {
          if (Object.hasOwn(tensors, name)) carried.push({ field: name, data: item as Float32Array | Uint8Array });
          else body[name] = item;
        }
        if (FORBIDDEN.has(field)) return;
        body[field] = replacement;
        decodeOrRefuse(decodeMessage, concatParts(encodeFrame(body, carried)));
      }),
      { numRuns: 2_000 },
    );
    // Random bodies behind a valid prefix, so they reach the msgpack decoder.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 260 }), (body, declared) => {
        const frame = new Uint8Array(8 + body.length);
        frame.set([0x44, 0x50, 1, 0]);
        new DataView(frame.buffer).setUint32(4, Math.min(declared, body.length + 4), true);
        frame.set(body, 8);
        decodeOrRefuse(decodeMessage, frame);
      }),
      { numRuns: 3_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeOrRefuse(decodeMessage, bytes)),
      { numRuns: 1_500 },
    );
    expect(frames).toBeGreaterThanOrEqual(10_000);
    // A hang fails through the test timeout.
  }, 40_000);
});
