import { describe, expect, it } from 'vitest';
import { decideBackup, median } from './backup-policy.js';

describe('decideBackup', () => {
  it('waits until the oldest running lease has run factor × the median finished lease, then backs it up', () => {
    const running = [
      { id: 7, startedAt: 100 },
      { id: 4, startedAt: 40 },
    ];
    // median of 10, 20, 300 is 20: due at 40 + 3 × 20 = 100.
    expect(decideBackup(running, [300, 10, 20], 3, 99)).toEqual({ kind: 'wait', atMs: 100 });
    expect(decideBackup(running, [300, 10, 20], 3, 100)).toEqual({ kind: 'backup', leaseId: 4 });
  });

  it('never calls a lease a straggler before minMs', () => {
    expect(decideBackup([{ id: 1, startedAt: 0 }], [2], 3, 100, 500)).toEqual({ kind: 'wait', atMs: 500 });
    expect(decideBackup([{ id: 1, startedAt: 0 }], [2], 3, 500, 500)).toEqual({ kind: 'backup', leaseId: 1 });
  });

  it('does nothing without a finished lease to compare with, without running leases, or when switched off', () => {
    expect(decideBackup([{ id: 1, startedAt: 0 }], [], 3, 1e9)).toEqual({ kind: 'none' });
    expect(decideBackup([], [5], 3, 1e9)).toEqual({ kind: 'none' });
    expect(decideBackup([{ id: 1, startedAt: 0 }], [5], 0, 1e9)).toEqual({ kind: 'none' });
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
