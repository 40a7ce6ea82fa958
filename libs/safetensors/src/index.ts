export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';
export type { DType, Tensor, TensorData, SafetensorsFile } from './safetensors.js';
export { SafetensorsError } from './safetensors-error.js';
export type { SafetensorsErrorCode } from './safetensors-error.js';
export { isAtomicTempFile, writeFileAtomic } from './write-file-atomic.js';
export type { WriteFileAtomicOptions } from './write-file-atomic.js';
export { makeDirectory } from './make-directory.js';
export { canonicalJson, decodeChecked, encodeChecked } from './checked.js';
