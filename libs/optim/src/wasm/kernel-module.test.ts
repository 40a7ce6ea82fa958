import { describe, expect, it } from 'vitest';
import { OptimError } from '../optim-error.js';
import { requireSimd } from './kernel-module.js';
import { webAssembly } from './webassembly-api.js';
import type { WasmApi } from './webassembly-api.js';

describe('requireSimd', () => {
  it('passes on this runtime (Node ≥ 16.4 validates SIMD)', () => {
    expect(requireSimd('adam')).toBe(webAssembly());
  });

  it('refuses a runtime without SIMD or without WebAssembly, saying what to run instead', () => {
    const noSimd = { ...webAssembly()!, validate: () => false } as WasmApi;
    for (const [api, missing] of [
      [noSimd, 'WebAssembly without SIMD'],
      [undefined, 'no WebAssembly'],
    ] as const) {
      let error: unknown;
      try {
        requireSimd('adam', () => api);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(OptimError);
      expect(error).toMatchObject({ code: 'E_OPTIM_SIMD', field: 'runtime', value: missing });
      expect((error as Error).message).toMatch(new RegExp(`^adam: this JavaScript runtime has ${missing}, .* help: run on Node ≥ 16\\.4`));
    }
  });
});
