/** Bytes before the msgpack header: magic "DP", format version, flags, u32 LE header length. */
export const PREFIX_BYTES = 8;

/** Tensor payloads start at multiples of this many bytes from the start of the frame. */
export const TENSOR_ALIGN = 8;

/** Longest msgpack header a decoder accepts unless told otherwise. */
export const DEFAULT_MAX_HEADER_BYTES = 256 * 1024;

/** Deepest nesting of arrays and maps in a header (the job config travels in `registered`). */
export const MAX_HEADER_DEPTH = 16;

/** Longest string field (names, reasons, paths, error messages), in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 4096;

/** Most micro-batch ids in one lease, step plan or completion report. */
export const MAX_MICRO_BATCH_IDS = 65_536;

/**
 * The smallest frame bound a peer may declare in its handshake (x-dptrain-max-payload): room for
 * the longest header, so that every control message, error replies included, reaches it. A peer
 * declaring less is refused before the connection opens.
 */
export const MIN_PEER_MAX_PAYLOAD = PREFIX_BYTES + DEFAULT_MAX_HEADER_BYTES;

/** Frame size bound for connections that carry no model tensors (control traffic only). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Bytes a connection may have queued for a peer that does not read them (ws bufferedAmount); past
 * it the connection is cut (E_LIMIT), so a peer that stops reading cannot grow our memory. At
 * least this, and at least 4 frames of our own maxPayload (the size of what we send).
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Bytes all of a server's connections together may have queued; past it the connection asking to
 * queue more is cut, so many slow readers cannot add up to more than this.
 */
export const DEFAULT_SERVER_BUFFER_BUDGET = 256 * 1024 * 1024;

/** Authenticated connections a server accepts at once, per role of the peer; more are refused (E_LIMIT). */
export const DEFAULT_CONNECTION_LIMITS: Readonly<Record<'coordinator' | 'ps' | 'worker' | 'client', number>> = {
  coordinator: 8,
  ps: 64,
  worker: 1024,
  client: 32,
};

/** Sockets a server holds that have not finished their HTTP request or upgrade; more are dropped. */
export const DEFAULT_MAX_PENDING_SOCKETS = 64;

/** How long a server waits for a socket's HTTP request headers (the upgrade request included). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000;

/** Shortest job secret accepted (DPTRAIN_TOKEN): 16 characters, e.g. `openssl rand -hex 24` gives 48. */
export const MIN_TOKEN_LENGTH = 16;

/** How long `Connection.request` waits for its reply. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** How long `connect` waits for the HTTP upgrade to complete. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Invalid messages tolerated on one connection before it is closed with the last error's code. */
export const DEFAULT_MAX_PROTOCOL_ERRORS = 32;

/**
 * The frame size (bytes) that fits one message carrying a whole model: the 8-byte prefix, a header
 * of up to `headerBytes`, a parameter tensor of `paramCount` float32 values and an auxiliary tensor
 * (batch-norm statistics or state) of `auxFloats` values, each padded to 8 bytes.
 *
 * @param paramCount length of the flat parameter vector (positive safe integer)
 * @param auxFloats length bound of the second tensor. @default paramCount
 * @param headerBytes header budget. @default DEFAULT_MAX_HEADER_BYTES (256 KiB)
 * @throws RangeError when an argument is not a non-negative safe integer (paramCount: positive)
 * @example maxPayloadFor(235_146) // 2_143_344: MLP 784-256-128-10 push or params frame bound
 */
export function maxPayloadFor(paramCount: number, auxFloats: number = paramCount, headerBytes: number = DEFAULT_MAX_HEADER_BYTES): number {
  requireCount('paramCount', paramCount, 1);
  requireCount('auxFloats', auxFloats, 0);
  requireCount('headerBytes', headerBytes, 1);
  const bytes = PREFIX_BYTES + headerBytes + 3 * TENSOR_ALIGN + 4 * (paramCount + auxFloats);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`maxPayloadFor: ${paramCount} + ${auxFloats} floats overflow a safe integer byte count`);
  }
  return bytes;
}

/**
 * Throws a RangeError naming `name` unless `value` is a safe integer ≥ `min`.
 * @throws RangeError
 */
export function requireCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a safe integer >= ${min}, got ${String(value)}; help: pass a whole number such as ${Math.max(min, 1)}`);
  }
}
