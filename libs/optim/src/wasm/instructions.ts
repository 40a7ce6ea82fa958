/**
 * The WebAssembly instructions the optimizer kernels use, as bytes (WebAssembly Core Specification
 * 2.0, §5.4 "Instructions", with the fixed-width SIMD opcodes of §5.4.8). Only this handful is
 * encoded: the kernels are straight loops of loads, f32 arithmetic and stores, so a full assembler
 * (and a build step or an npm dependency for one) would buy nothing.
 */

/** Value types (§5.3.1). */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128 of an integer in [0, 2^32). */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uleb128: expected an integer in [0, 2^32), got ${value}`);
  }
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 of an integer in [−2^31, 2^31) (the immediate of i32.const). */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`sleb128: expected an integer in [-2^31, 2^31), got ${value}`);
  }
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const low = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (low & 0x40) === 0) || (rest === -1 && (low & 0x40) !== 0);
    bytes.push(done ? low : low | 0x80);
    if (done) return bytes;
  }
}

/** Control (§5.4.1). Blocks and loops here never produce a value (block type 0x40). */
export const block = (): number[] => [0x02, 0x40];
export const loop = (): number[] => [0x03, 0x40];
export const end = (): number[] => [0x0b];
export const br = (depth: number): number[] => [0x0c, ...uleb128(depth)];
export const brIf = (depth: number): number[] => [0x0d, ...uleb128(depth)];

/** Variables (§5.4.4). */
export const localGet = (index: number): number[] => [0x20, ...uleb128(index)];
export const localSet = (index: number): number[] => [0x21, ...uleb128(index)];
export const localTee = (index: number): number[] => [0x22, ...uleb128(index)];

/** i32 arithmetic on byte offsets (§5.4.7). */
export const i32Const = (value: number): number[] => [0x41, ...sleb128(value)];
export const i32Add = (): number[] => [0x6a];
export const i32And = (): number[] => [0x71];
export const i32Shl = (): number[] => [0x74];
export const i32GeU = (): number[] => [0x4f];
export const i32Eqz = (): number[] => [0x45];

/** Parametric (§5.4.3): the first operand when the i32 on top is non-zero, else the second. */
export const select = (): number[] => [0x1b];

/** Reinterprets the bits of an f32 as an i32 (§5.4.7). */
export const i32ReinterpretF32 = (): number[] => [0xbc];

/** memarg: log2 of the alignment the access promises (a hint), then the static offset 0. */
const memarg = (log2Align: number): number[] => [log2Align, 0];

/** Scalar f32 (§5.4.6, §5.4.7). */
export const f32Const = (value: number): number[] => [0x43, ...new Uint8Array(Float32Array.of(value).buffer)];
export const f32Load = (): number[] => [0x2a, ...memarg(2)];
export const f32Store = (): number[] => [0x38, ...memarg(2)];
export const f32Sqrt = (): number[] => [0x91];
export const f32Add = (): number[] => [0x92];
export const f32Sub = (): number[] => [0x93];
export const f32Mul = (): number[] => [0x94];
export const f32Div = (): number[] => [0x95];

/** SIMD instructions are the prefix 0xFD followed by their number as a u32 LEB128 (§5.4.8). */
const simd = (opcode: number, ...immediates: number[]): number[] => [0xfd, ...uleb128(opcode), ...immediates];
// v128 accesses promise 16-byte alignment: every region and every vector step is 16-byte aligned.
export const v128Load = (): number[] => simd(0x00, ...memarg(4));
export const v128Store = (): number[] => simd(0x0b, ...memarg(4));
export const f32x4Splat = (): number[] => simd(0x13);
export const i32x4Splat = (): number[] => simd(0x11);
export const i32x4Eq = (): number[] => simd(0x37);
export const v128And = (): number[] => simd(0x4e);
/** a & ~b, with b on top of the stack. */
export const v128AndNot = (): number[] => simd(0x4f);
export const f32x4Sqrt = (): number[] => simd(0xe3);
export const f32x4Add = (): number[] => simd(0xe4);
export const f32x4Sub = (): number[] => simd(0xe5);
export const f32x4Mul = (): number[] => simd(0xe6);
export const f32x4Div = (): number[] => simd(0xe7);
