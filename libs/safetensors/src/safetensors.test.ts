import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensors, SafetensorsError, writeSafetensors } from './index.js';

/** Builds a file by hand from the format's definition, independent of the encoder. */
function handBuilt(headerJson: string, data: number[]): Uint8Array {
  const header = Buffer.from(headerJson, 'utf8');
  const out = Buffer.alloc(8 + header.length + data.length);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(out, 8);
  Buffer.from(data).copy(out, 8 + header.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SafetensorsError ? error.code : `not a SafetensorsError: ${String(error)}`;
  }
  return undefined;
}

describe('encodeSafetensors', () => {
  it('writes the layout byte for byte', () => {
    // Header {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes; 8 + 54 = 62, so two
    // spaces pad it to 64. 1.0f = 00 00 80 3f, 2.0f = 00 00 00 40 (little-endian).
    const expected = handBuilt('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ', [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  });

  it('pads the header with spaces to an 8-byte boundary and keeps metadata', () => {
    const bytes = encodeSafetensors({ b: { shape: [1], data: new Uint8Array([7]) } }, { step: '3' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const json = Buffer.from(bytes.subarray(8, 8 + headerLength)).toString();
    expect(json.trimEnd()).toBe('{"__metadata__":{"step":"3"},"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}');
    expect(json.length - json.trimEnd().length).toBe(headerLength - json.trimEnd().length);
  });

  it('puts wider types first so every tensor is aligned for a zero-copy view', () => {
    const bytes = encodeSafetensors([
      ['flag', { shape: [3], data: new Uint8Array([1, 2, 3]) }],
      ['w', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      ['d', { shape: [1], data: new Float64Array([0.5]) }],
    ]);
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['d', 'w', 'flag']);
    const w = file.tensors.get('w')!;
    expect(w.data.buffer).toBe(bytes.buffer);
    expect(Array.from(w.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(w.shape).toEqual([2, 2]);
  });

  it('refuses a shape that does not match the data', () => {
    expect(codeOf(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }))).toBe('E_ST_INPUT');
  });
});

describe('decodeSafetensors', () => {
  it('round-trips every dtype bit for bit, NaN payloads included', () => {
    const f32 = new Float32Array([0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e-45]);
    const tensors = {
      f64: { shape: [2], data: new Float64Array([Math.PI, -1e300]) },
      f32: { shape: [2, 3], data: f32 },
      i64: { shape: [1], data: new BigInt64Array([-(2n ** 62n)]) },
      i32: { shape: [2], data: new Int32Array([-5, 2 ** 31 - 1]) },
      u32: { shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
      u8: { shape: [0], data: new Uint8Array(0) },
    };
    const file = decodeSafetensors(encodeSafetensors(tensors));
    for (const [name, tensor] of Object.entries(tensors)) {
      const got = file.tensors.get(name)!;
      expect(got.shape).toEqual(tensor.shape);
      expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength)).toEqual(
        Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      );
    }
  });

  it('copies a tensor whose bytes are not aligned in the caller buffer', () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([3, 4]) } });
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(Array.from(decodeSafetensors(shifted).tensors.get('w')!.data as Float32Array)).toEqual([3, 4]);
  });

  const good = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  it.each([
    ['too short for the length field', new Uint8Array(4), 'E_ST_TRUNCATED'],
    ['header longer than the file', handBuilt(good, []).subarray(0, 20), 'E_ST_TRUNCATED'],
    ['header not JSON', handBuilt('{"w":', []), 'E_ST_HEADER'],
    ['header an array', handBuilt('[1,2]', []), 'E_ST_HEADER'],
    ['unknown dtype', handBuilt('{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), 'E_ST_ENTRY'],
    ['negative dimension', handBuilt('{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', []), 'E_ST_ENTRY'],
    ['size not matching shape', handBuilt('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(8).fill(0)), 'E_ST_ENTRY'],
    ['data missing', handBuilt(good, [0, 0, 0, 0]), 'E_ST_TRUNCATED'],
    ['trailing bytes', handBuilt(good, new Array(12).fill(0)), 'E_ST_LAYOUT'],
    [
      'a hole between tensors',
      handBuilt('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [1, 0, 2]),
      'E_ST_LAYOUT',
    ],
    ['metadata not strings', handBuilt('{"__metadata__":{"a":1}}', []), 'E_ST_HEADER'],
  ])('refuses %s', (_what, bytes, code) => {
    expect(codeOf(() => decodeSafetensors(bytes))).toBe(code);
  });

  it('names the file and the tensor at fault', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, handBuilt('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(8).fill(0)));
    await expect(readSafetensors(path)).rejects.toThrow(`${path}: tensor "w": data_offsets [0, 8] hold 8 bytes but shape [3] of F32 needs 12`);
  });
});

function pythonSafetensors(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import safetensors.numpy'], { stdio: 'ignore' });
      return python;
    } catch {
      // try the next interpreter
    }
  }
  return undefined;
}
const python = pythonSafetensors();

describe.skipIf(!python)('the reference reader (Python safetensors; skipped when not installed)', () => {
  it('reads our file with the same names, shapes and values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'params.safetensors');
    await writeSafetensors(
      path,
      { 'dense0/kernel': { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }, 'bn0/count': { shape: [1], data: new Int32Array([7]) } },
      { format: 'pt' },
    );
    const script = `import json,sys; from safetensors.numpy import load_file; from safetensors import safe_open
d = load_file(sys.argv[1]); m = safe_open(sys.argv[1], 'np').metadata()
print(json.dumps({k: [list(v.shape), v.flatten().tolist()] for k, v in d.items()} | {'meta': m}))`;
    const out = JSON.parse(execFileSync(python!, ['-c', script, path]).toString());
    expect(out).toEqual({
      'dense0/kernel': [
        [2, 3],
        [1, 2, 3, 4, 5, 6],
      ],
      'bn0/count': [[1], [7]],
      meta: { format: 'pt' },
    });
    expect(readFileSync(path).length).toBeGreaterThan(8);
  });
});
