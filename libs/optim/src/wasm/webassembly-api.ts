/**
 * The part of the WebAssembly JavaScript API the kernels use, typed here because this project
 * compiles against ES2023 and Node's types, which declare no `WebAssembly` global (lib.dom does).
 * Read through `globalThis` so that a runtime without WebAssembly yields `undefined`, not a
 * ReferenceError.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => {
    readonly exports: Record<string, unknown>;
  };
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's `WebAssembly` object, or undefined where there is none. */
export function webAssembly(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** Bytes in one WebAssembly page. */
export const PAGE_BYTES = 65_536;

/** Pages in the largest memory a 32-bit WebAssembly module can address (4 GiB). */
export const MAX_PAGES = 65_536;
