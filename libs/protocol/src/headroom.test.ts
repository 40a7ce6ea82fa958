import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './codec.js';
import { concatParts } from './frame.js';
import { TENSOR_HEADROOM, allocateTensor, releaseFrame } from './headroom.js';
import type { Message } from './messages.js';
import { createMemoryPair } from './memory-pair.js';

const pushWith = (grads: Float32Array, bnStats?: Float32Array): Message => ({
  type: 'push',
  seq: 1,
  step: 2,
  microBatchId: 3,
  version: 2,
  generation: 0,
  offset: 0,
  grads,
  loss: 0.5,
  samples: 8,
  ...(bnStats ? { bnStats } : {}),
});

describe('allocateTensor', () => {
  it('returns zeros with TENSOR_HEADROOM free bytes in front and 8-byte padding behind', () => {
    const t = allocateTensor(3);
    expect([...t]).toEqual([0, 0, 0]);
    expect(t.byteOffset).toBe(TENSOR_HEADROOM);
    // 12 bytes of values padded to 16.
    expect(t.buffer.byteLength).toBe(TENSOR_HEADROOM + 16);
    expect(() => allocateTensor(-1)).toThrow(/length must be a safe integer >= 0, got -1/);
  });

  it('lets a frame be written in place, around the tensor, and decoded to the same values', () => {
    const grads = allocateTensor(5);
    grads.set([1, 2, 3, 4, 5]);
    const parts = encodeMessage(pushWith(grads), { inPlace: true });
    expect(parts).toHaveLength(1);
    expect(parts[0].buffer).toBe(grads.buffer);
    // The frame ends at the tensor's end rounded up to 8: 20 value bytes + 4 padding.
    expect(parts[0].byteOffset + parts[0].byteLength).toBe(TENSOR_HEADROOM + 24);
    const decoded = decodeMessage(new Uint8Array(parts[0]));
    expect(decoded.type === 'push' && [...decoded.grads]).toEqual([1, 2, 3, 4, 5]);
    releaseFrame(parts);
  });

  it('copies instead while the tensor is in flight, and goes in place again once released', () => {
    const grads = allocateTensor(4);
    const first = encodeMessage(pushWith(grads), { inPlace: true });
    const second = encodeMessage(pushWith(grads), { inPlace: true });
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(2);
    releaseFrame(first);
    const third = encodeMessage(pushWith(grads), { inPlace: true });
    expect(third).toHaveLength(1);
    releaseFrame(third);
  });

  it('is not used for plain tensors, for two-tensor messages, or without inPlace', () => {
    expect(encodeMessage(pushWith(new Float32Array(4)), { inPlace: true })).toHaveLength(2);
    expect(encodeMessage(pushWith(allocateTensor(4), new Float32Array(2)), { inPlace: true })).toHaveLength(3);
    const grads = allocateTensor(4);
    expect(concatParts(encodeMessage(pushWith(grads))).buffer).not.toBe(grads.buffer);
  });

  it('survives two sends of one tensor through a connection before either is written', async () => {
    const { a: worker, b: ps } = createMemoryPair({ a: { role: 'worker' }, b: { role: 'ps' } });
    const received: number[][] = [];
    ps.on('message', (msg) => {
      if (msg.type !== 'push') return;
      received.push([...msg.grads]);
      void ps.reply(msg, { type: 'pushAck', step: msg.step, microBatchId: msg.microBatchId, status: 'accepted' });
    });
    const grads = allocateTensor(2);
    grads.set([7, 8]);
    const push = (microBatchId: number) =>
      worker.request({ type: 'push', step: 0, microBatchId, version: 0, generation: 0, offset: 0, grads, loss: 1, samples: 1 });
    await Promise.all([push(0), push(1)]);
    expect(received).toEqual([
      [7, 8],
      [7, 8],
    ]);
    // Both frames are written, so the tensor is free: the next frame goes in place.
    const parts = encodeMessage(pushWith(grads), { inPlace: true });
    expect(parts).toHaveLength(1);
    releaseFrame(parts);
  });
});
