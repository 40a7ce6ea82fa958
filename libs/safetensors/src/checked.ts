import { createHash } from 'node:crypto';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type Tensor } from './safetensors.js';
import { SafetensorsError } from './safetensors-error.js';

/** JSON with object keys sorted at every depth, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * sha256 over the metadata (keys sorted, without `sha256`) and every tensor's name, dtype, shape
 * and bytes in name order: a flipped bit anywhere but in the padding of the header is caught.
 */
function digestOf(metadata: Record<string, string>, tensors: ReadonlyMap<string, Tensor>): string {
  const hash = createHash('sha256');
  const { sha256: _ignored, ...rest } = metadata;
  hash.update(canonicalJson(rest));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    hash.update(`\0${name}\0${t.data.constructor.name}\0${JSON.stringify(t.shape)}\0`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}

/** Safetensors bytes whose metadata carries `sha256`, the digest of everything else (checkpoints). */
export function encodeChecked(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): Uint8Array {
  return encodeSafetensors(tensors, { ...metadata, sha256: digestOf(metadata, tensors) });
}

/**
 * Decodes bytes of encodeChecked and verifies their digest.
 * @throws SafetensorsError E_ST_CHECKSUM when the contents do not hash to their `sha256`, or the
 *   decoder's own error when the bytes are not safetensors
 */
export function decodeChecked(bytes: Uint8Array, source: string): SafetensorsFile & { readonly sha256: string } {
  const file = decodeSafetensors(bytes, source);
  const digest = digestOf(file.metadata, file.tensors);
  if (digest !== file.metadata.sha256) {
    throw new SafetensorsError('E_ST_CHECKSUM', `${source}: sha256 mismatch: the file says ${file.metadata.sha256}, its contents hash to ${digest} (corrupt)`);
  }
  return { ...file, sha256: digest };
}
