import { DataOptionError } from './data-error.js';

/** Throws unless `value` is an integer in [min, max]; the message names the option and the fix. */
export function checkInteger(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new DataOptionError('E_DATA_OPTION', option, value, `${option} must be ${range}, got ${String(value)}`);
  }
  return value;
}

/** Seeds are unsigned 32-bit integers: the PRNG state is 32 bits wide. */
export function checkSeed(option: string, value: unknown): number {
  return checkInteger(option, value, 0, 0xffff_ffff);
}
