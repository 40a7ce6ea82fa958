import { OptimError } from '../optim-error.js';
import { MAX_PAGES, PAGE_BYTES } from './webassembly-api.js';
import type { WasmApi, WasmMemory } from './webassembly-api.js';

/** Named float32 arrays of one length laid out in one WebAssembly memory. */
export interface Regions {
  readonly memory: WasmMemory;
  /** A view of each region; valid for the memory's whole life, since it never grows. */
  readonly views: Readonly<Record<string, Float32Array>>;
  /** Byte offset of each region: the pointers the kernels take. */
  readonly offsets: Readonly<Record<string, number>>;
}

/**
 * Allocates a memory holding `names.length` regions of `size` float32 each, one after the other,
 * each starting at a multiple of 16 bytes (one f32x4), all zero.
 *
 * The memory is created at its final size and never grows: `WebAssembly.Memory.grow` would detach
 * every view handed out so far (their length would become 0).
 * @throws {OptimError} E_OPTIM_SIZE when the regions exceed the 4 GiB a 32-bit WebAssembly memory
 *   can hold, or when the runtime cannot allocate them (the runtime's error is the `cause`).
 */
export function allocateRegions(owner: string, names: readonly string[], size: number, api: WasmApi): Regions {
  const stride = Math.ceil((size * 4) / 16) * 16;
  const bytes = stride * names.length;
  const pages = Math.ceil(bytes / PAGE_BYTES);
  const what = `${names.length} vectors of ${size.toLocaleString('en-US')} float32 (${names.join(', ')}), ${gib(bytes)}`;
  if (pages > MAX_PAGES) {
    const largest = Math.floor((MAX_PAGES * PAGE_BYTES) / names.length / 16) * 4;
    throw new OptimError(
      'E_OPTIM_SIZE',
      'size',
      size,
      `${owner}: size ${size} needs ${what}, more than the 4 GiB one WebAssembly memory can hold. help: split the parameters over more parameter-server shards (--ps-shards) so that each holds at most ${largest.toLocaleString('en-US')} of them.`,
    );
  }
  let memory: WasmMemory;
  try {
    memory = new api.Memory({ initial: pages, maximum: pages });
  } catch (error) {
    throw new OptimError(
      'E_OPTIM_SIZE',
      'size',
      size,
      `${owner}: could not allocate the memory for size ${size}: ${what}. help: free memory on this machine, or split the parameters over more parameter-server shards (--ps-shards).`,
      { cause: error },
    );
  }
  const views: Record<string, Float32Array> = {};
  const offsets: Record<string, number> = {};
  names.forEach((name, i) => {
    offsets[name] = i * stride;
    views[name] = new Float32Array(memory.buffer, i * stride, size);
  });
  return { memory, views, offsets };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
