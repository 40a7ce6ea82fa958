export {
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  type JsonValue,
  type Message,
  type MessageOf,
  type Outgoing,
  type ReplyOf,
  type RequestType,
  type Role,
} from './messages.js';
export { ProtocolError, isProtocolError } from './errors.js';
export { createDecoder, decodeMessage, encodeMessage } from './codec.js';
export { concatParts } from './frame.js';
export { type ValidateOptions } from './validate.js';
export { firstNonFinite } from './finite.js';
export { TENSOR_HEADROOM, allocateTensor } from './headroom.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_PAYLOAD,
  MIN_PEER_MAX_PAYLOAD,
  DEFAULT_MAX_PROTOCOL_ERRORS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_HEADER_DEPTH,
  MAX_MICRO_BATCH_IDS,
  MAX_TEXT_LENGTH,
  maxPayloadFor,
} from './limits.js';
export { type WireStats } from './stats.js';
export type { Connection, ConnectionEvents } from './connection.js';
export { createServer, type ProtocolServer } from './server.js';
export { connect, type ConnectOptions } from './client.js';
export { HEADER_JOB, HEADER_MAX_PAYLOAD, HEADER_ROLE, HEADER_VERSION, resolveToken } from './handshake.js';
export { backoffDelays, reconnecting, type ReconnectOptions } from './reconnect.js';
export { maskingImplementation } from './wire-accel.js';
export { createMemoryPair } from './memory-pair.js';
export { connectPort } from './port-connection.js';
export { connectBrowser, type BrowserConnectOptions, type BrowserSocket, type BrowserSocketClass } from './browser-connect.js';
export { DEFAULT_JOIN_TTL_MS, mintJoinToken, verifyJoinToken } from './join-token.js';
export { readJoinClaims, type JoinClaims } from './join-claims.js';
export { unrefTimer } from './unref-timer.js';
