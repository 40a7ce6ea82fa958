import { describe, expect, it } from 'vitest';
import { pinnedCores } from './cpu-pinning.js';

describe('pinnedCores', () => {
  it('gives the workers cores of their own first, then the shards, then the coordinator, round the cores', () => {
    expect(Object.fromEntries(pinnedCores({ workers: 2, psShards: 1, colocate: false }, 2))).toEqual({
      'worker-0': 0,
      'worker-1': 1,
      'ps-0': 0,
      coordinator: 1,
    });
    expect(Object.fromEntries(pinnedCores({ workers: 1, psShards: 2, colocate: false }, 4))).toEqual({
      'worker-0': 0,
      'ps-0': 1,
      'ps-1': 2,
      coordinator: 3,
    });
  });

  it('names no shard process in the co-located layout: a shard is a thread of its worker', () => {
    expect(Object.fromEntries(pinnedCores({ workers: 2, psShards: 2, colocate: true }, 2))).toEqual({ 'worker-0': 0, 'worker-1': 1, coordinator: 0 });
  });

  it('refuses a core count that is not a positive whole number', () => {
    expect(() => pinnedCores({ workers: 1, psShards: 1, colocate: false }, 0)).toThrow(/positive whole number of cores/);
  });
});
