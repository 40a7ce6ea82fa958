import { Packr, Unpackr } from 'msgpackr';
import { ProtocolError } from './errors.js';
import { MAX_HEADER_DEPTH } from './limits.js';

// Headers are plain data: maps as objects (no records, no shared structures), no typed-array,
// Set/Map/Error or structured-clone extensions, 64-bit integers as numbers so the range checks see
// them. Extensions msgpackr always registers (Date, RegExp, bigint…) can still decode; assertPlain
// refuses whatever they produce.
const OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  int64AsType: 'number',
  variableMapSize: true,
} as const;

const packr = new Packr(OPTIONS);
const unpackr = new Unpackr(OPTIONS);

/** Header bytes of a plain value (run assertPlain first). */
export function packHeader(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * Decodes one msgpack value that must span `bytes` exactly, then checks it is plain data.
 * @throws ProtocolError E_MALFORMED (not msgpack, trailing bytes, extension objects, forbidden
 *   keys, nesting deeper than MAX_HEADER_DEPTH) or E_NON_FINITE (NaN/±Infinity anywhere)
 */
export function unpackHeader(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    // Stack exhaustion from thousands of nested array headers lands here too, as a RangeError.
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProtocolError('E_MALFORMED', `frame header is not one valid msgpack value (${reason})`, {
      cause: error,
    });
  }
  assertPlain(value, 'header', 0);
  return value;
}

// msgpackr renames "__proto__" to "__proto_" when decoding; both are refused, as are the other
// names that reach prototypes when a consumer copies fields around.
const FORBIDDEN_KEYS = new Set(['__proto__', '__proto_', 'constructor', 'prototype']);

/**
 * Accepts only JSON-like data: null, booleans, finite numbers, strings, arrays and objects whose
 * prototype is Object.prototype, nested at most MAX_HEADER_DEPTH deep.
 * @throws ProtocolError E_MALFORMED or E_NON_FINITE naming the path of the offending value
 */
export function assertPlain(value: unknown, path: string, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ProtocolError('E_NON_FINITE', `${path} is ${value}; only finite numbers are accepted`);
      }
      return;
    case 'object':
      break;
    default:
      throw new ProtocolError('E_MALFORMED', `${path} is a ${typeof value}; headers hold plain data only`);
  }
  if (value === null) return;
  if (depth >= MAX_HEADER_DEPTH) {
    throw new ProtocolError('E_MALFORMED', `${path} is nested deeper than ${MAX_HEADER_DEPTH} levels`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertPlain(value[i], `${path}[${i}]`, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    const kind = (value as object).constructor?.name ?? 'object without prototype';
    throw new ProtocolError('E_MALFORMED', `${path} decodes to a ${kind}; msgpack extension types are refused`);
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new ProtocolError('E_MALFORMED', `${path} has the forbidden key "${key}"`);
    }
    assertPlain((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
  }
}
