export { registerWasmTrainingKernels } from './register.js';
export type { WasmTrainingKernelOptions } from './register.js';
