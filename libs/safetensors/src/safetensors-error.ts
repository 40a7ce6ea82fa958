import { CodedError } from '@dptrain/errors';

export type SafetensorsErrorCode = 'E_ST_HEADER' | 'E_ST_TRUNCATED' | 'E_ST_ENTRY' | 'E_ST_LAYOUT' | 'E_ST_INPUT' | 'E_ST_CHECKSUM';

/** A safetensors file or tensor set that cannot be read or written; names the tensor or field at fault. */
export class SafetensorsError extends CodedError<SafetensorsErrorCode> {}
