import { OptimError, describe } from './optim-error.js';

/**
 * Throws unless `array` is a Float32Array of exactly `size` elements.
 * @param owner who is asking, e.g. `adam.step`; @param field the argument's name, e.g. `grads`.
 */
export function checkVector(owner: string, field: string, array: unknown, size: number): Float32Array {
  if (!(array instanceof Float32Array) || array.length !== size) {
    const length = array instanceof Float32Array ? array.length : describe(array);
    throw new OptimError(
      'E_OPTIM_LENGTH',
      field,
      length,
      `${owner}: ${field} must be a Float32Array of ${size} elements (the parameter count), got ${
        array instanceof Float32Array ? `${array.length} elements` : describe(array)
      }. help: pass the flat vector of the same parameters (or shard) the optimizer was created for.`,
    );
  }
  return array;
}

/** Throws unless `size` is a usable parameter count. */
export function checkSize(owner: string, size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 2 ** 31 - 1) {
    throw new OptimError(
      'E_OPTIM_SIZE',
      'size',
      size,
      `${owner}: size must be an integer in [1, 2^31 − 1], got ${describe(size)}. help: pass the length of the flat parameter vector.`,
    );
  }
  return size;
}
