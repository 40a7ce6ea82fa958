import { describe, expect, it } from 'vitest';
import { AppliedLedger } from './applied-ledger.js';

describe('AppliedLedger', () => {
  it('records (step, micro-batch) pairs, counts each once, and continues from its bytes', () => {
    const ledger = new AppliedLedger(5, 3);
    ledger.add(0, [0, 1, 2]);
    ledger.add(4, [2]);
    ledger.add(4, [2]);
    expect(ledger.count).toBe(4);
    expect([ledger.has(0, 1), ledger.has(4, 2), ledger.has(4, 1), ledger.has(1, 0)]).toEqual([true, true, false, false]);
    // 5 × 3 = 15 bits → 2 bytes; step 4 id 2 is bit 14.
    expect([...ledger.bytes()]).toEqual([0b0000_0111, 0b0100_0000]);
    const again = new AppliedLedger(5, 3, ledger.bytes());
    expect(again.count).toBe(4);
    expect(again.has(4, 2)).toBe(true);
  });

  it('refuses pairs outside the plan and bytes of another plan', () => {
    const ledger = new AppliedLedger(5, 3);
    expect(() => ledger.add(5, [0])).toThrow(/outside the plan of 5 steps × 3/);
    expect(() => ledger.has(0, 3)).toThrow(RangeError);
    expect(() => new AppliedLedger(8, 3, ledger.bytes())).toThrow(/another job/);
  });
});
