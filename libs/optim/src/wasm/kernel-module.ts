import { OptimError } from '../optim-error.js';
import { compileKernel } from './compile-kernel.js';
import { V128, f32x4Sqrt, localGet, localSet } from './instructions.js';
import type { AnyKernel } from './kernel.js';
import { encodeModule } from './module-binary.js';
import { webAssembly } from './webassembly-api.js';
import type { WasmApi, WasmMemory } from './webassembly-api.js';

/** A compiled kernel: `(array byte offsets…, n, scalars…) => void` (see `compileKernel`). */
export type KernelFunction = (...args: number[]) => void;

/** The smallest module with an f32x4 instruction: it validates exactly where SIMD is supported. */
const SIMD_PROBE = encodeModule([{ name: 'probe', params: [], locals: [V128], body: [...localGet(0), ...f32x4Sqrt(), ...localSet(0)] }]);

/**
 * Returns the runtime's WebAssembly API after checking that it runs SIMD.
 *
 * There is no fallback to the plain JavaScript loops on purpose: they round differently (double
 * intermediates), and a run whose processes chose different arithmetic would lose the bit-for-bit
 * agreement between `dptrain train` and the cluster.
 * @param find where the API comes from; @default the global `WebAssembly` (see `webAssembly`)
 * @throws {OptimError} E_OPTIM_SIMD when WebAssembly or its SIMD instructions are missing.
 */
export function requireSimd(owner: string, find: () => WasmApi | undefined = webAssembly): WasmApi {
  const api = find();
  if (api !== undefined && api.validate(SIMD_PROBE)) return api;
  const missing = api === undefined ? 'no WebAssembly' : 'WebAssembly without SIMD';
  throw new OptimError(
    'E_OPTIM_SIMD',
    'runtime',
    missing,
    `${owner}: this JavaScript runtime has ${missing}, and the element-wise optimizers run as WebAssembly SIMD kernels (there is no fallback with other rounding, so that every process of a run computes the same bits). help: run on Node ≥ 16.4 (SIMD is on by default) without flags that turn WebAssembly or its SIMD off.`,
  );
}

/** Compiled modules by the names of their kernels: compiled once per process, instantiated per optimizer. */
const modules = new Map<string, object>();

/**
 * Instantiates a module holding `kernels` over `memory` and returns its functions by kernel name.
 * @throws {OptimError} E_OPTIM_SIMD (see `requireSimd`).
 */
export function instantiateKernels(
  owner: string,
  kernels: readonly AnyKernel[],
  memory: WasmMemory,
  api: WasmApi = requireSimd(owner),
): Record<string, KernelFunction> {
  const key = kernels.map((kernel) => kernel.name).join('+');
  let module = modules.get(key);
  if (module === undefined) {
    module = new api.Module(encodeModule(kernels.map(compileKernel)));
    modules.set(key, module);
  }
  const instance = new api.Instance(module, { env: { memory } });
  return Object.fromEntries(kernels.map((kernel) => [kernel.name, instance.exports[kernel.name] as KernelFunction]));
}
