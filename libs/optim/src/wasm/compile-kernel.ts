import {
  F32,
  I32,
  V128,
  block,
  br,
  brIf,
  end,
  f32Add,
  f32Const,
  f32Div,
  f32Load,
  f32Mul,
  f32Sqrt,
  f32Store,
  f32Sub,
  f32x4Add,
  f32x4Div,
  f32x4Mul,
  f32x4Splat,
  f32x4Sqrt,
  f32x4Sub,
  i32Add,
  i32And,
  i32Const,
  i32Eqz,
  i32GeU,
  i32ReinterpretF32,
  i32Shl,
  i32x4Eq,
  i32x4Splat,
  localGet,
  localSet,
  localTee,
  loop,
  select,
  v128And,
  v128AndNot,
  v128Load,
  v128Store,
} from './instructions.js';
import type { ValueType } from './instructions.js';
import type { AnyKernel, Expr } from './kernel.js';
import type { FunctionDefinition } from './module-binary.js';

/** The instructions of one lane width: four elements per step (f32x4) or one (f32). */
interface Width {
  readonly bytes: number;
  readonly load: number[];
  readonly store: number[];
  readonly sqrt: number[];
  readonly binary: Readonly<Record<'add' | 'sub' | 'mul' | 'div', number[]>>;
  /** flushSubnormal of the value on the stack, with `scratch` a local of this width's type. */
  readonly flush: (scratch: number) => number[];
  readonly temp: ValueType;
}

/** The exponent bits of an f32: all zero for ±0 and the subnormals, and only for them. */
const EXPONENT = 0x7f800000;

const VECTOR: Width = {
  bytes: 16,
  load: v128Load(),
  store: v128Store(),
  sqrt: f32x4Sqrt(),
  binary: { add: f32x4Add(), sub: f32x4Sub(), mul: f32x4Mul(), div: f32x4Div() },
  // x & ~(lanes whose exponent bits are 0): integer operations only, so no subnormal is read as a float.
  flush: (scratch) => [
    ...localTee(scratch),
    ...localGet(scratch),
    ...i32Const(EXPONENT),
    ...i32x4Splat(),
    ...v128And(),
    ...i32Const(0),
    ...i32x4Splat(),
    ...i32x4Eq(),
    ...v128AndNot(),
  ],
  temp: V128,
};

const SCALAR: Width = {
  bytes: 4,
  load: f32Load(),
  store: f32Store(),
  sqrt: f32Sqrt(),
  binary: { add: f32Add(), sub: f32Sub(), mul: f32Mul(), div: f32Div() },
  // select(+0, x, exponent bits of x == 0): the same bits as the vector loop's lane.
  flush: (scratch) => [
    ...localSet(scratch),
    ...f32Const(0),
    ...localGet(scratch),
    ...localGet(scratch),
    ...i32ReinterpretF32(),
    ...i32Const(EXPONENT),
    ...i32And(),
    ...i32Eqz(),
    ...select(),
  ],
  temp: F32,
};

/**
 * Compiles `kernel` into a function `(array pointers…: i32, n: i32, scalars…: f32) => void` where
 * each pointer is the byte offset of an n-element float32 array in memory:
 *
 *   end = 4n;  vectorEnd = end rounded down to a multiple of 16;  splat every scalar
 *   for (i = 0; i < vectorEnd; i += 16) body with f32x4 (elements i/4 … i/4 + 3)
 *   for (; i < end; i += 4)            body with f32   (the last n mod 4 elements)
 *
 * Both loops run the same instructions in the same order on each element, so every element gets
 * the same bits whichever loop handles it.
 */
export function compileKernel(kernel: AnyKernel): FunctionDefinition {
  const arrays = kernel.arrays.length;
  const scalars = kernel.scalars.length;
  const n = arrays;
  const scalarParam = (index: number) => arrays + 1 + index;
  let next = arrays + 1 + scalars;
  const i = next++;
  const vectorEnd = next++;
  const byteEnd = next++;
  const splats = kernel.scalars.map(() => next++);
  const [vectorScratch, scalarScratch] = [next++, next++];
  const shared = sharedNodes(kernel);
  const vectorTemps = new Map([...shared].map((node) => [node, next++] as const));
  const scalarTemps = new Map([...shared].map((node) => [node, next++] as const));
  const locals: ValueType[] = [
    I32,
    I32,
    I32,
    ...splats.map((): ValueType => V128),
    V128,
    F32,
    ...shared.map((): ValueType => V128),
    ...shared.map((): ValueType => F32),
  ];

  const elementLoop = (width: Width, limit: number, temps: Map<Expr, number>, scalarLocal: (index: number) => number, scratch: number) => [
    ...block(),
    ...loop(),
    ...localGet(i),
    ...localGet(limit),
    ...i32GeU(),
    ...brIf(1),
    ...elementBody(kernel, width, temps, scalarLocal, scratch, (array) => [...localGet(array), ...localGet(i), ...i32Add()]),
    ...localGet(i),
    ...i32Const(width.bytes),
    ...i32Add(),
    ...localSet(i),
    ...br(0),
    ...end(),
    ...end(),
  ];

  const body = [
    ...localGet(n),
    ...i32Const(2),
    ...i32Shl(),
    ...localTee(byteEnd),
    ...i32Const(-16),
    ...i32And(),
    ...localSet(vectorEnd),
    ...splats.flatMap((local, index) => [...localGet(scalarParam(index)), ...f32x4Splat(), ...localSet(local)]),
    ...elementLoop(VECTOR, vectorEnd, vectorTemps, (index) => splats[index], vectorScratch),
    ...elementLoop(SCALAR, byteEnd, scalarTemps, scalarParam, scalarScratch),
  ];
  return {
    name: kernel.name,
    params: [...kernel.arrays.map((): ValueType => I32), I32, ...kernel.scalars.map((): ValueType => F32)],
    locals,
    body,
  };
}

/** Nodes referenced more than once (scalars aside, which are locals already): each gets a local. */
function sharedNodes(kernel: AnyKernel): Expr[] {
  const uses = new Map<Expr, number>();
  const visit = (e: Expr): void => {
    const count = (uses.get(e) ?? 0) + 1;
    uses.set(e, count);
    if (count > 1) return;
    if (e.kind === 'sqrt' || e.kind === 'flush') visit(e.a);
    else if (e.kind !== 'load' && e.kind !== 'scalar') {
      visit(e.a);
      visit(e.b);
    }
  };
  for (const store of kernel.stores) visit(store.value);
  return [...uses].filter(([e, count]) => count > 1 && e.kind !== 'scalar').map(([e]) => e);
}

/** The stores of one element (or four), each shared node computed at its first use. */
function elementBody(
  kernel: AnyKernel,
  width: Width,
  temps: Map<Expr, number>,
  scalarLocal: (index: number) => number,
  scratch: number,
  address: (array: number) => number[],
): number[] {
  const out: number[] = [];
  const computed = new Set<Expr>();
  const stored = new Set<number>();
  const emit = (e: Expr): void => {
    const temp = temps.get(e);
    if (temp !== undefined && computed.has(e)) {
      out.push(...localGet(temp));
      return;
    }
    if (e.kind === 'load') {
      if (stored.has(e.array)) {
        throw new Error(`kernel ${kernel.name}: ${kernel.arrays[e.array]} is loaded after it is stored; load it (and keep the value) before the store`);
      }
      out.push(...address(e.array), ...width.load);
    } else if (e.kind === 'scalar') {
      out.push(...localGet(scalarLocal(e.index)));
    } else if (e.kind === 'sqrt') {
      emit(e.a);
      out.push(...width.sqrt);
    } else if (e.kind === 'flush') {
      emit(e.a);
      out.push(...width.flush(scratch));
    } else {
      emit(e.a);
      emit(e.b);
      out.push(...width.binary[e.kind]);
    }
    if (temp !== undefined) {
      out.push(...localTee(temp));
      computed.add(e);
    }
  };
  for (const store of kernel.stores) {
    out.push(...address(store.array));
    emit(store.value);
    out.push(...width.store);
    stored.add(store.array);
  }
  return out;
}
