import { describe, expect, it } from 'vitest';
import { OptimError } from '../optim-error.js';
import { allocateRegions } from './optimizer-memory.js';
import { webAssembly } from './webassembly-api.js';
import type { WasmApi } from './webassembly-api.js';

describe('allocateRegions', () => {
  it('places regions one after the other at multiples of 16 bytes, zeroed, in a memory of whole pages', () => {
    const { memory, views, offsets } = allocateRegions('adam', ['params', 'grads', 'm'], 5, webAssembly()!);
    // 5 floats = 20 bytes, rounded up to 32 per region
    expect(offsets).toEqual({ params: 0, grads: 32, m: 64 });
    expect(Object.values(views).map((v) => [v.byteOffset, v.length, v.every((x) => x === 0)])).toEqual([
      [0, 5, true],
      [32, 5, true],
      [64, 5, true],
    ]);
    expect(memory.buffer.byteLength).toBe(65_536);
  });

  it('turns a failed allocation into E_OPTIM_SIZE, keeping the runtime’s error as the cause', () => {
    const refusal = new RangeError('WebAssembly.Memory(): could not allocate memory');
    const api = {
      ...webAssembly()!,
      Memory: class {
        constructor() {
          throw refusal;
        }
      },
    } as unknown as WasmApi;
    let error: unknown;
    try {
      allocateRegions('adam', ['params', 'grads', 'm', 'v'], 100_000_000, api);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptimError);
    expect(error).toMatchObject({ code: 'E_OPTIM_SIZE', value: 100_000_000, cause: refusal });
    // 4 × 4e8 bytes = 1.49 GiB
    expect((error as Error).message).toBe(
      'adam: could not allocate the memory for size 100000000: 4 vectors of 100,000,000 float32 (params, grads, m, v), 1.49 GiB. help: free memory on this machine, or split the parameters over more parameter-server shards (--ps-shards).',
    );
  });
});
