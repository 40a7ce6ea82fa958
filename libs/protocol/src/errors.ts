import { CodedError } from '@dptrain/errors';

/**
 * The one catalog of protocol errors. Each code carries the HTTP status used when the error refuses
 * a handshake, the WebSocket close code used when it ends a connection (4000–4999 are application
 * codes; 1009 and 1011 are the standard "too big" and "internal error"), whether retrying the same
 * call can succeed, and the `help:` line telling the user what to fix.
 */
export const ERROR_CATALOG = {
  E_AUTH: {
    httpStatus: 401,
    closeCode: 4001,
    retryable: false,
    help: 'start every process of the job with the same DPTRAIN_TOKEN (sent as "Authorization: Bearer <token>"); a worker takes its id back only with the session secret its registration gave it',
  },
  E_VERSION: {
    httpStatus: 400,
    closeCode: 4002,
    retryable: false,
    help: 'run the same dptrain release on every process of the job',
  },
  E_JOB: {
    httpStatus: 409,
    closeCode: 4003,
    retryable: false,
    help: 'connect to the processes of your own job (check the job id and the address)',
  },
  E_ROLE: {
    httpStatus: 403,
    closeCode: 4004,
    retryable: false,
    help: 'connect to the service that serves this role, and send only the messages the role may send',
  },
  E_HANDSHAKE: {
    httpStatus: 400,
    closeCode: 4005,
    retryable: false,
    help: 'connect through @dptrain/protocol connect(), which sends the x-dptrain-* headers',
  },
  E_MALFORMED: {
    httpStatus: 400,
    closeCode: 4006,
    retryable: false,
    help: 'build messages with @dptrain/protocol (encodeMessage / Connection.send), never by hand',
  },
  E_TOO_LARGE: {
    httpStatus: 413,
    closeCode: 1009,
    retryable: false,
    help: 'raise maxPayload on both ends (maxPayloadFor(paramCount) fits a whole model) or send a smaller slice',
  },
  E_BAD_LENGTH: {
    httpStatus: 400,
    closeCode: 4007,
    retryable: false,
    help: 'send tensors whose length matches the model (paramCount) and the slice the server owns',
  },
  E_NON_FINITE: {
    httpStatus: 400,
    closeCode: 4008,
    retryable: false,
    help: 'the sender produced NaN or Infinity; lower the learning rate or clip gradients, and check the inputs',
  },
  E_UNKNOWN_TYPE: {
    httpStatus: 400,
    closeCode: 4009,
    retryable: false,
    help: 'send one of the message types of MESSAGE_TYPES (is the peer running another dptrain release?)',
  },
  E_RANGE: {
    httpStatus: 400,
    closeCode: 4010,
    retryable: false,
    help: 'steps, versions, ids and offsets are non-negative safe integers inside the ranges the receiver owns',
  },
  E_STALE: {
    httpStatus: 409,
    closeCode: 4011,
    retryable: true,
    help: 'pull fresh parameters and compute the gradient again',
  },
  E_TIMEOUT: {
    httpStatus: 504,
    closeCode: 4012,
    retryable: true,
    help: 'the peer did not answer in time; check that it is alive, or raise requestTimeoutMs',
  },
  E_CLOSED: {
    httpStatus: 503,
    closeCode: 4013,
    retryable: true,
    help: 'the connection closed before the reply arrived; reconnect and send again',
  },
  E_CONNECT: {
    httpStatus: 503,
    closeCode: 4014,
    retryable: true,
    help: 'check that the peer is running and listening at this address (reconnecting() retries with back-off)',
  },
  E_TICKET: {
    httpStatus: 403,
    closeCode: 4015,
    retryable: false,
    help: 'push only the micro-batches of a lease the coordinator gave this worker, each with its lease ticket; a ticket that does not verify comes from another job or secret, or was altered',
  },
  E_LIMIT: {
    httpStatus: 429,
    closeCode: 4016,
    retryable: true,
    help: 'a limit of the receiving server was reached (docs/SECURITY.md lists them with their defaults): read replies as they arrive, keep few requests waiting, open fewer connections',
  },
  E_INTERNAL: {
    httpStatus: 500,
    closeCode: 1011,
    retryable: false,
    help: 'a message handler failed on the receiving side; its log has the stack trace',
  },
} as const satisfies Record<string, ErrorSpec>;

/** One catalog entry. */
export interface ErrorSpec {
  /** Status of the HTTP response when the error refuses a WebSocket upgrade. */
  readonly httpStatus: number;
  /** WebSocket close code when the error ends a connection. */
  readonly closeCode: number;
  /** Whether the same call may succeed later without changing anything. */
  readonly retryable: boolean;
  /** What the user should do, appended to messages as `help: …`. */
  readonly help: string;
}

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as readonly ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}

export interface ProtocolErrorOptions {
  /** `seq` of the message the error concerns, when it could be read. */
  readonly ref?: number;
  readonly cause?: unknown;
  /** The error was raised by the peer and arrived as an `error` message. */
  readonly remote?: boolean;
  /** `detail` is already a complete message (a peer's, or another ProtocolError's). */
  readonly verbatim?: boolean;
}

/**
 * An error a user or a peer can cause. The message is `CODE: detail (help: …)`, where the detail
 * names the offending value and the catalog supplies the fix.
 */
export class ProtocolError extends CodedError<ErrorCode> {
  readonly ref: number | undefined;
  readonly remote: boolean;

  constructor(code: ErrorCode, detail: string, options: ProtocolErrorOptions = {}) {
    super(code, options.verbatim ? detail : `${code}: ${detail} (help: ${ERROR_CATALOG[code].help})`, {
      cause: options.cause,
    });
    this.ref = options.ref;
    this.remote = options.remote ?? false;
  }

  get closeCode(): number {
    return ERROR_CATALOG[this.code].closeCode;
  }

  get httpStatus(): number {
    return ERROR_CATALOG[this.code].httpStatus;
  }

  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }

  /** The same error tied to the message with sequence number `ref`. */
  withRef(ref: number): ProtocolError {
    if (this.ref === ref) return this;
    return new ProtocolError(this.code, this.message, {
      ref,
      cause: this.cause,
      remote: this.remote,
      verbatim: true,
    });
  }
}

export function isProtocolError(value: unknown, code?: ErrorCode): value is ProtocolError {
  return value instanceof ProtocolError && (code === undefined || value.code === code);
}
