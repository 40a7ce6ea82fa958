import { end, uleb128 } from './instructions.js';
import type { ValueType } from './instructions.js';

/** One exported function: its signature, extra locals and body (without the final `end`). */
export interface FunctionDefinition {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly locals: readonly ValueType[];
  readonly body: readonly number[];
}

/**
 * A module of functions without results that import one memory as `env.memory` and export each
 * function under its name (WebAssembly Core Specification 2.0, §5.5 "Modules"): the sections
 * type (1), import (2), function (3), export (7) and code (10), in that order. The memory is
 * imported with a minimum of 0 pages, so any memory fits; its owner sizes it.
 */
export function encodeModule(functions: readonly FunctionDefinition[]): Uint8Array {
  const types = vector(functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), ...vector([])]));
  const imports = vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb128(0)]]);
  const declarations = vector(functions.map((_, i) => uleb128(i)));
  const exports = vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb128(i)]));
  const code = vector(
    functions.map((f) => {
      const body = [...vector(localGroups(f.locals)), ...f.body, ...end()];
      return [...uleb128(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, types),
    ...section(2, imports),
    ...section(3, declarations),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

function section(id: number, contents: readonly number[]): number[] {
  return [id, ...uleb128(contents.length), ...contents];
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [...uleb128(bytes.length), ...bytes];
}

/** Locals are declared as runs of (count, type). */
function localGroups(locals: readonly ValueType[]): number[][] {
  const groups: number[][] = [];
  let i = 0;
  while (i < locals.length) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    groups.push([...uleb128(j - i), locals[i]]);
    i = j;
  }
  return groups;
}
