import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder, decodeMessage, encodeMessage } from './codec.js';
import { ProtocolError } from './errors.js';
import { concatParts } from './frame.js';
import { MESSAGE_TYPES, TENSOR_FIELDS, type Message } from './messages.js';
import { createWireStats } from './stats.js';
import { messageArbitraries } from './testing/arbitraries.js';

/** Tensors compared by their dtype and bytes (so -0 and NaN payloads would count), the rest structurally. */
function expectSameMessage(actual: Message, expected: Message): void {
  const tensorFields = TENSOR_FIELDS[expected.type];
  const strip = (msg: Message) => Object.fromEntries(Object.entries(msg).filter(([key, value]) => !Object.hasOwn(tensorFields, key) && value !== undefined));
  expect(strip(actual)).toEqual(strip(expected));
  for (const [field, dtype] of Object.entries(tensorFields)) {
    const a = (actual as unknown as Record<string, Float32Array | Uint8Array | undefined>)[field];
    const e = (expected as unknown as Record<string, Float32Array | Uint8Array | undefined>)[field];
    expect(a === undefined).toBe(e === undefined);
    if (a && e) {
      expect(a).toBeInstanceOf(dtype === 'f32' ? Float32Array : Uint8Array);
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(e.buffer, e.byteOffset, e.byteLength))).toBe(true);
    }
  }
}

describe('encodeMessage / decodeMessage', () => {
  for (const type of MESSAGE_TYPES) {
    it(`round-trips every generated ${type} message`, () => {
      fc.assert(
        fc.property(messageArbitraries[type], (msg) => {
          const decoded = decodeMessage(concatParts(encodeMessage(msg)));
          expect(decoded.type).toBe(type);
          expectSameMessage(decoded, msg);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('decodes a push of the MLP size with zero copies: grads view the received buffer', () => {
    const paramCount = 235_146;
    const grads = new Float32Array(paramCount).map((_, i) => i / 7);
    const frame = concatParts(
      encodeMessage({ type: 'push', seq: 3, step: 1, microBatchId: 2, version: 1, generation: 0, offset: 0, grads, loss: 2.5, samples: 64 }),
    );
    const stats = createWireStats();
    const msg = createDecoder({ paramCount })(frame, stats);
    if (msg.type !== 'push') throw new Error(`decoded a ${msg.type}`);
    expect(msg.grads.buffer).toBe(frame.buffer);
    expect(msg.grads.byteOffset % 8).toBe(0);
    expect(msg.grads.byteOffset + msg.grads.byteLength).toBe(frame.byteLength);
    expect(msg.grads[paramCount - 1]).toBe(Math.fround((paramCount - 1) / 7));
    expect(stats.unalignedCopies).toBe(0);
  });

  it('refuses to encode a message that breaks its schema, at the sender', () => {
    const bad = { type: 'heartbeat', seq: 0, workerId: -1, generation: 0, sentAtMs: 0 } as unknown as Message;
    expect(() => encodeMessage(bad)).toThrow(ProtocolError);
    expect(() => encodeMessage(bad)).toThrow(/E_RANGE: heartbeat.workerId/);
    const extra = { type: 'status', seq: 0, surprise: 1 } as unknown as Message;
    expect(() => encodeMessage(extra)).toThrow(/E_MALFORMED: status: Unrecognized key: "surprise"/);
    const notTensor = { type: 'params', seq: 0, re: 0, version: 0, step: 0, offset: 0, values: [1, 2] } as unknown as Message;
    expect(() => encodeMessage(notTensor)).toThrow(/E_MALFORMED: params.values/);
  });

  it('drops optional fields left undefined instead of sending them', () => {
    const frame = concatParts(encodeMessage({ type: 'pushAck', seq: 1, re: 0, step: 0, microBatchId: 0, status: 'accepted', reason: undefined }));
    expect(Object.keys(decodeMessage(frame))).toEqual(['type', 'seq', 're', 'step', 'microBatchId', 'status']);
  });
});
