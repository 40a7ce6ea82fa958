/**
 * Fills `out` with copies of `pattern` end to end (`out.length` a multiple of `pattern.length`):
 * one copy, then block copies that double the filled prefix, so the work is a few memmoves.
 */
export function repeatPattern(pattern: Float32Array, out: Float32Array): void {
  if (pattern.length === 0 || out.length % pattern.length !== 0) {
    throw new RangeError(`cannot tile ${pattern.length} values into ${out.length}; the output length must be a positive multiple of the pattern's`);
  }
  out.set(pattern);
  for (let filled = pattern.length; filled < out.length; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  }
}
