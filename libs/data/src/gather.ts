import { DataOptionError } from './data-error.js';
import type { Batch, Split } from './dataset-types.js';

/** How `gather` turns a pixel byte into a model input, in words for other frameworks (the run's metadata). */
export const INPUT_SCALING =
  'x = float32(uint8 / 255): each byte b becomes b/255 rounded once to float32 (numpy: (b / 255).astype(np.float32)); no mean subtraction';

/** byte b ↦ b/255 rounded once to float32 (the double quotient is exact enough to round correctly). */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/**
 * Copies the samples at `indices` (in that order) into one batch: inputs scaled to [0, 1] as
 * float32 (byte/255; float images are copied as they are) and labels as int32.
 *
 * Runs for every micro-batch, so it allocates nothing when `out` is given: pass buffers of at least
 * `indices.length × split.features` and `indices.length` elements and reuse them across calls. The
 * returned arrays are `out`'s own arrays when their lengths match exactly, else views of their
 * first `count × features` / `count` elements.
 *
 * @throws {DataOptionError} an index that is not an integer in [0, split.count), or `out` too small.
 */
export function gather(split: Split, indices: ArrayLike<number>, out?: { x: Float32Array; y: Int32Array }): Batch {
  const count = indices.length;
  const { features, images, labels } = split;
  const xLength = count * features;
  let x: Float32Array;
  let y: Int32Array;
  if (out === undefined) {
    x = new Float32Array(xLength);
    y = new Int32Array(count);
  } else {
    if (out.x.length < xLength || out.y.length < count) {
      throw new DataOptionError(
        'E_DATA_OPTION',
        'out',
        { x: out.x.length, y: out.y.length },
        `gather: output buffers hold ${out.x.length} inputs and ${out.y.length} labels, ${count} samples need ${xLength} and ${count}; allocate them for the largest batch`,
      );
    }
    x = out.x.length === xLength ? out.x : out.x.subarray(0, xLength);
    y = out.y.length === count ? out.y : out.y.subarray(0, count);
  }
  const fromBytes = images instanceof Uint8Array;
  for (let s = 0; s < count; s++) {
    const index = indices[s];
    if (!(Number.isInteger(index) && index >= 0 && index < split.count)) {
      throw new DataOptionError(
        'E_DATA_OPTION',
        `indices[${s}]`,
        index,
        `gather: indices[${s}] = ${index} is not a sample of this split (integers 0..${split.count - 1}); the plan and the split disagree`,
      );
    }
    const from = index * features;
    const to = s * features;
    if (fromBytes) scaleBytes(images, from, x, to, features);
    else x.set(images.subarray(from, from + features), to);
    y[s] = labels[index];
  }
  return { x, y, count };
}

/** Kept apart so the hot loop sees one array type (monomorphic for the JIT). */
function scaleBytes(bytes: Uint8Array, from: number, x: Float32Array, to: number, length: number): void {
  for (let f = 0; f < length; f++) x[to + f] = BYTE_TO_UNIT[bytes[from + f]];
}
