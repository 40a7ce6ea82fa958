import { describe, expect, it } from 'vitest';
import { F32, I32, f32Load, f32Sqrt, f32Store, localGet } from './instructions.js';
import { encodeModule } from './module-binary.js';
import { webAssembly } from './webassembly-api.js';

const wasm = webAssembly()!;

describe('encodeModule', () => {
  it('lays out the sections of the specification byte for byte', () => {
    const bytes = encodeModule([{ name: 'f', params: [], locals: [], body: [] }]);
    expect(Array.from(bytes)).toEqual([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
      ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00], // type section (4 bytes): 1 type, func () → ()
      // import section (15 bytes): 1 import, "env" "memory", kind memory, limits {min 0}
      ...[0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00],
      ...[0x03, 0x02, 0x01, 0x00], // function section: 1 function of type 0
      ...[0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00], // export section: "f" = function 0
      ...[0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b], // code section: 1 body of 2 bytes: no locals, end
    ]);
    expect(wasm.validate(bytes)).toBe(true);
  });

  it('groups locals into runs and produces a module the runtime runs', () => {
    // (func (param $p i32) (local f32 f32 i32) (f32.store (local.get $p) (f32.sqrt (f32.load (local.get $p)))))
    const bytes = encodeModule([
      {
        name: 'sqrtInPlace',
        params: [I32],
        locals: [F32, F32, I32],
        body: [...localGet(0), ...localGet(0), ...f32Load(), ...f32Sqrt(), ...f32Store()],
      },
    ]);
    // code section body: locals vector of 2 runs: (2 × f32), (1 × i32)
    const code = Array.from(bytes.slice(bytes.lastIndexOf(0x0a)));
    expect(code.slice(4, 9)).toEqual([0x02, 0x02, F32, 0x01, I32]);
    const memory = new wasm.Memory({ initial: 1, maximum: 1 });
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
    new Float32Array(memory.buffer).set([0, 0, 2.25], 0);
    (instance.exports['sqrtInPlace'] as (p: number) => void)(8);
    expect(new Float32Array(memory.buffer, 0, 3)).toEqual(Float32Array.of(0, 0, 1.5));
  });
});
