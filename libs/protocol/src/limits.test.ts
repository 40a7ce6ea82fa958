import { describe, expect, it } from 'vitest';
import { maxPayloadFor } from './limits.js';

describe('maxPayloadFor', () => {
  it('fits prefix, header budget, two tensors and their padding', () => {
    // MLP 784-256-128-10: 784·256+256 + 256·128+128 + 128·10+10 = 235,146 parameters.
    // 8 (prefix) + 262,144 (header) + 3·8 (padding) + 4·(235,146 + 235,146) = 2,143,344 bytes.
    expect(maxPayloadFor(235_146)).toBe(2_143_344);
    // No auxiliary tensor, 1 KiB header: 8 + 1024 + 24 + 4·10 = 1,096.
    expect(maxPayloadFor(10, 0, 1024)).toBe(1_096);
  });

  it('names the bad argument', () => {
    expect(() => maxPayloadFor(0)).toThrow(/paramCount must be a safe integer >= 1, got 0/);
    expect(() => maxPayloadFor(10, -1)).toThrow(/auxFloats must be a safe integer >= 0, got -1/);
    expect(() => maxPayloadFor(2 ** 52)).toThrow(/overflow a safe integer/);
  });
});
