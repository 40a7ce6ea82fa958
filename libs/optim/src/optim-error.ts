import { CodedRangeError } from '@dptrain/errors';

/**
 * Why an optimizer call was refused. Every message names the field or array at fault, the value it
 * had, and ends with a `help:` line saying what to do instead.
 *
 * - `E_OPTIM_NAME`: `config.name` is not one of `OPTIMIZER_NAMES`.
 * - `E_OPTIM_FIELD`: a config field that the chosen optimizer does not use (or that no optimizer has).
 * - `E_OPTIM_HYPERPARAMETER`: a hyper-parameter (or schedule/clipping setting) outside its range.
 * - `E_OPTIM_SIZE`: a parameter count that is not a positive integer, or whose buffers do not fit
 *   in one WebAssembly memory (4 GiB) or in the memory left on the machine.
 * - `E_OPTIM_LENGTH`: an array whose length differs from the optimizer's parameter count.
 * - `E_OPTIM_STATE`: a state handed to `load()` that was written by another optimizer, for another
 *   size, or is missing, mistyped or mis-sized in one of its slots or scalars.
 * - `E_OPTIM_NON_FINITE`: a norm that came out NaN or infinite, so clipping cannot scale it.
 * - `E_OPTIM_SIMD`: this JavaScript runtime has no WebAssembly SIMD, which the element-wise
 *   optimizers need (Node ≥ 16.4 has it).
 */
export type OptimErrorCode =
  | 'E_OPTIM_NAME'
  | 'E_OPTIM_FIELD'
  | 'E_OPTIM_HYPERPARAMETER'
  | 'E_OPTIM_SIZE'
  | 'E_OPTIM_LENGTH'
  | 'E_OPTIM_STATE'
  | 'E_OPTIM_NON_FINITE'
  | 'E_OPTIM_SIMD';

/**
 * A call that cannot work. It is a `RangeError`, so callers that only know the standard classes
 * still catch it; `field` and `value` name the culprit for programs, the message for people.
 */
export class OptimError extends CodedRangeError<OptimErrorCode> {
  constructor(
    code: OptimErrorCode,
    /** The config field, argument or state entry at fault, e.g. `beta1` or `slots.m`. */
    readonly field: string,
    /** The offending value (lengths for arrays). */
    readonly value: unknown,
    message: string,
    /** `cause`: the runtime's own error, when one led to this refusal. */
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** How values appear in messages: strings quoted, arrays by type and length, the rest as written. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${value.constructor.name}(${length})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
