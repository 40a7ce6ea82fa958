/**
 * An element-wise optimizer kernel written once as an expression over float32 values and compiled
 * (by `compile-kernel.ts`) into a WebAssembly function that runs it four elements at a time with
 * f32x4 instructions and the last n mod 4 elements with the same f32 instructions one at a time.
 * Lane i of an f32x4 operation and the f32 operation on element i round identically (IEEE 754,
 * round to nearest, no fusing), so element i's result depends on element i's inputs only, never on
 * where it sits in the vector: a parameter-server shard gets the bits the whole vector would.
 *
 * @example
 * // params ← params − lr·grads
 * defineKernel({
 *   name: 'sgd', arrays: ['params', 'grads'], scalars: ['lr'],
 *   values: (_t, lr, _config: SgdHyperParameters) => ({ lr }),
 *   body: ({ params, grads }, { lr }) => [params.store(sub(params.load(), mul(lr, grads.load())))],
 * });
 */

/**
 * A float32 value computed for element i. Nodes are compared by identity: a node used twice is
 * computed once and kept in a local, so `const g = grads.load()` used twice loads once.
 */
export type Expr =
  | { readonly kind: 'load'; readonly array: number }
  | { readonly kind: 'scalar'; readonly index: number }
  | { readonly kind: 'sqrt'; readonly a: Expr }
  | { readonly kind: 'flush'; readonly a: Expr }
  | { readonly kind: 'add' | 'sub' | 'mul' | 'div'; readonly a: Expr; readonly b: Expr };

/** Writes `value` to element i of array number `array`. */
export interface Store {
  readonly array: number;
  readonly value: Expr;
}

/** One array argument of a kernel inside the body. */
export interface ArrayRef {
  /** Element i as it is when this load runs: stores run in the order the body lists them. */
  load(): Expr;
  store(value: Expr): Store;
}

export const add = (a: Expr, b: Expr): Expr => ({ kind: 'add', a, b });
export const sub = (a: Expr, b: Expr): Expr => ({ kind: 'sub', a, b });
export const mul = (a: Expr, b: Expr): Expr => ({ kind: 'mul', a, b });
export const div = (a: Expr, b: Expr): Expr => ({ kind: 'div', a, b });
export const sqrt = (a: Expr): Expr => ({ kind: 'sqrt', a });

/**
 * `a`, or +0 where `a` is zero or subnormal (|a| < 2^−126; NaN and ±∞ kept), as a CPU in
 * flush-to-zero mode would store it. WebAssembly keeps subnormals, and on x86 every operation that
 * reads or produces one takes a microcode assist, tens of times slower: optimizer state that
 * decays geometrically (γ·m for a parameter whose gradient stays 0) passes through the subnormal
 * range for about 150 steps, and with a few percent of a model there, an Adam step took 20 times
 * longer (libs/optim/README.md). TensorFlow flushes subnormals in its CPU kernels for the same reason.
 */
export const flushSubnormal = (a: Expr): Expr => ({ kind: 'flush', a });

/** A kernel ready to compile: its arguments, how to compute its scalars, and its stores. */
export interface Kernel<H> {
  /** The exported function's name, unique among the kernels of one module. */
  readonly name: string;
  /** Names of the array arguments (regions of the optimizer's memory), in argument order. */
  readonly arrays: readonly string[];
  /** Names of the float32 scalar arguments, in argument order. */
  readonly scalars: readonly string[];
  /** The scalars of step t (1 for the first) at learning rate lr, in `scalars` order. */
  values(t: number, lr: number, config: H): number[];
  /** What the body stores for element i, in order. */
  readonly stores: readonly Store[];
}

/** A kernel whatever its config type, as the compiler sees it (it never calls `values`). */
export type AnyKernel = Kernel<never>;

/**
 * Builds a kernel from its body. `values` runs in JavaScript once per call and may use double
 * precision (bias corrections, 1 − γ); its results are rounded to float32 when they are passed in.
 * @throws {Error} if the body leaves an array or a scalar unused (a mistake in the kernel).
 */
export function defineKernel<H, const A extends readonly string[], const S extends readonly string[]>(spec: {
  readonly name: string;
  readonly arrays: A;
  readonly scalars: S;
  readonly values: (t: number, lr: number, config: H) => { readonly [K in S[number]]: number };
  readonly body: (arrays: { readonly [K in A[number]]: ArrayRef }, scalars: { readonly [K in S[number]]: Expr }) => readonly Store[];
}): Kernel<H> {
  const arrayRefs = Object.fromEntries(
    spec.arrays.map((name, array) => [name, { load: (): Expr => ({ kind: 'load', array }), store: (value: Expr): Store => ({ array, value }) }]),
  ) as { readonly [K in A[number]]: ArrayRef };
  const scalarRefs = Object.fromEntries(spec.scalars.map((name, index) => [name, { kind: 'scalar', index } satisfies Expr])) as {
    readonly [K in S[number]]: Expr;
  };
  const stores = spec.body(arrayRefs, scalarRefs);
  checkAllUsed(spec.name, spec.arrays, spec.scalars, stores);
  const order = spec.scalars as readonly S[number][];
  return {
    name: spec.name,
    arrays: spec.arrays,
    scalars: spec.scalars,
    values: (t, lr, config) => {
      const named = spec.values(t, lr, config);
      return order.map((scalar) => named[scalar]);
    },
    stores,
  };
}

function checkAllUsed(name: string, arrays: readonly string[], scalars: readonly string[], stores: readonly Store[]): void {
  const usedArrays = new Set<number>();
  const usedScalars = new Set<number>();
  const visit = (e: Expr): void => {
    if (e.kind === 'load') usedArrays.add(e.array);
    else if (e.kind === 'scalar') usedScalars.add(e.index);
    else if (e.kind === 'sqrt' || e.kind === 'flush') visit(e.a);
    else {
      visit(e.a);
      visit(e.b);
    }
  };
  for (const store of stores) {
    usedArrays.add(store.array);
    visit(store.value);
  }
  const unusedArrays = arrays.filter((_, i) => !usedArrays.has(i));
  const unusedScalars = scalars.filter((_, i) => !usedScalars.has(i));
  if (unusedArrays.length > 0 || unusedScalars.length > 0) {
    throw new Error(`kernel ${name}: unused arguments ${[...unusedArrays, ...unusedScalars].join(', ')}; remove them or use them in the body`);
  }
}
