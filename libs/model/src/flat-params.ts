/**
 * The parameter server's view of a model: one flat `Float32Array` in which every parameter tensor
 * occupies a contiguous slice, in a fixed order with stable names (`dense0/kernel`, `bn0/gamma`,
 * `block3/fixup_scale`). Tensors keep TensorFlow.js layouts: dense kernels [in, out], convolution
 * kernels [height, width, in, out], row-major.
 */
import { ModelError } from './model-error.js';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Index of the tensor's first value in the flat vector. */
  readonly offset: number;
  /** Number of values, the product of `shape`. */
  readonly size: number;
}

/** Total length of the flat vector described by `specs`. */
export function flatSize(specs: readonly ParamSpec[]): number {
  return specs.reduce((n, s) => n + s.size, 0);
}

/**
 * @throws {ModelError} `E_MODEL_PARAMS` when `flat` does not have exactly the length of `specs`.
 */
export function checkFlatLength(flat: ArrayLike<number>, specs: readonly ParamSpec[], what: string): void {
  const size = flatSize(specs);
  if (flat.length !== size) {
    throw new ModelError(
      'E_MODEL_PARAMS',
      `${what} has ${flat.length} values but the model has ${size} parameters; pass a vector made by init() or flattenParams() for the same model config`,
    );
  }
}

/** Views (no copies) of each tensor's slice of `flat`, by name, in `specs` order. */
export function unflattenParams(flat: Float32Array, specs: readonly ParamSpec[]): Map<string, Float32Array> {
  checkFlatLength(flat, specs, 'parameter vector');
  return new Map(specs.map((s) => [s.name, flat.subarray(s.offset, s.offset + s.size)]));
}

/**
 * The flat vector holding `tensors` (by name) in `specs` order.
 * @throws {ModelError} `E_MODEL_PARAMS` when a tensor is missing, has the wrong size, or a name
 *   is not one of the model's.
 */
export function flattenParams(
  tensors: ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>,
  specs: readonly ParamSpec[],
): Float32Array {
  const byName: ReadonlyMap<string, ArrayLike<number>> = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const out = new Float32Array(flatSize(specs));
  const known = new Set(specs.map((s) => s.name));
  for (const name of byName.keys()) {
    if (!known.has(name)) {
      throw new ModelError('E_MODEL_PARAMS', `tensor "${name}" is not a parameter of this model; expected names: ${[...known].join(', ')}`);
    }
  }
  for (const s of specs) {
    const values = byName.get(s.name);
    if (values === undefined) {
      throw new ModelError('E_MODEL_PARAMS', `tensor "${s.name}" (shape [${s.shape.join(', ')}]) is missing; every parameter must be given`);
    }
    if (values.length !== s.size) {
      throw new ModelError('E_MODEL_PARAMS', `tensor "${s.name}" has ${values.length} values but shape [${s.shape.join(', ')}] needs ${s.size}`);
    }
    out.set(values, s.offset);
  }
  return out;
}
