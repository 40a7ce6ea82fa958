import { describe, expect, it } from 'vitest';
import { Refusals } from './refusals.js';

describe('Refusals', () => {
  it('counts each worker’s refused pushes and remembers who had which micro-batch refused', () => {
    const r = new Refusals();
    expect(r.record(2, 5, [0, 3])).toBe(2);
    expect(r.record(1, 5, [3])).toBe(1);
    expect(r.record(2, 6, [1])).toBe(3);
    expect(r.refused(2, 5, 3)).toBe(true);
    expect(r.refused(1, 5, 0)).toBe(false);
    r.forgetBefore(6);
    expect(r.refused(2, 5, 3)).toBe(false);
    expect(r.refused(2, 6, 1)).toBe(true);
  });
});
