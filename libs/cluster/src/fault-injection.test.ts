import { describe, expect, it } from 'vitest';
import { parseFaultInjection } from './fault-injection.js';

describe('parseFaultInjection (DPTRAIN_FAULT)', () => {
  it('reads every key, and nothing from an empty value', () => {
    expect(parseFaultInjection(undefined)).toEqual({});
    expect(parseFaultInjection('')).toEqual({});
    expect(parseFaultInjection('slow=5, nan-from-step=12,stall-checkpoint-step=20')).toEqual({ slow: 5, nanFromStep: 12, stallCheckpointStep: 20 });
  });

  it('applies only to the process named by only=', () => {
    expect(parseFaultInjection('slow=3,only=worker-0', 'worker-0')).toEqual({ slow: 3 });
    expect(parseFaultInjection('slow=3,only=worker-0', 'worker-1')).toEqual({});
    expect(parseFaultInjection('slow=3,only=worker-0')).toEqual({});
  });

  it('names the bad entry and the keys that exist', () => {
    expect(() => parseFaultInjection('slow')).toThrow(/'slow' is not key=value; keys: slow, nan-from-step/);
    expect(() => parseFaultInjection('fast=2')).toThrow(/fast.*keys: slow/s);
    expect(() => parseFaultInjection('slow=0.5')).toThrow(/slow:.*DPTRAIN_FAULT=slow=5/);
    expect(() => parseFaultInjection('nan-from-step=x')).toThrow(/nan-from-step/);
  });
});
