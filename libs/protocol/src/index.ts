export {
  MESSAGE_SCHEMAS,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  PUSH_STATUSES,
  REPLY_TYPES,
  ROLES,
  SENDERS,
  TENSOR_FIELDS,
  isMessageType,
  type JsonValue,
  type Message,
  type MessageOf,
  type MessageType,
  type Outgoing,
  type PushStatus,
  type ReplyOf,
  type ReplyType,
  type RequestType,
  type Role,
} from './messages.js';
export {
  ERROR_CATALOG,
  ERROR_CODES,
  ProtocolError,
  isErrorCode,
  isProtocolError,
  type ErrorCode,
  type ErrorSpec,
  type ProtocolErrorOptions,
} from './errors.js';
export { createDecoder, decodeMessage, encodeMessage, type Decoder } from './codec.js';
export {
  FRAME_FORMAT,
  FRAME_MAGIC,
  concatParts,
  decodeFrame,
  encodeFrame,
  type DecodedFrame,
  type EncodeOptions,
  type FrameTensor,
} from './frame.js';
export { resolveValidateOptions, type ResolvedValidateOptions, type ValidateOptions } from './validate.js';
export { firstNonFinite } from './finite.js';
export { TENSOR_HEADROOM, allocateTensor } from './headroom.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_PAYLOAD,
  MIN_PEER_MAX_PAYLOAD,
  MIN_TOKEN_LENGTH,
  DEFAULT_MAX_PROTOCOL_ERRORS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_HEADER_DEPTH,
  MAX_MICRO_BATCH_IDS,
  MAX_TEXT_LENGTH,
  maxPayloadFor,
} from './limits.js';
export { createWireStats, type WireStats } from './stats.js';
export type { Connection, ConnectionEvents, ConnectionOptions, PeerInfo } from './connection.js';
export { createServer, type ProtocolServer, type ServerOptions } from './server.js';
export { connect, type ConnectOptions } from './client.js';
export { HEADER_JOB, HEADER_MAX_PAYLOAD, HEADER_NAME, HEADER_ROLE, HEADER_VERSION, resolveToken } from './handshake.js';
export { backoffDelays, reconnecting, type BackoffOptions, type ReconnectOptions } from './reconnect.js';
export { maskingImplementation, type MaskingImplementation } from './wire-accel.js';
export { silentLogger, stderrLogger, type LogLevel, type LogRecord, type Logger } from '@dptrain/log';
export { createMemoryPair, type MemoryEndOptions, type MemoryPair, type MemoryPairOptions } from './memory-pair.js';
