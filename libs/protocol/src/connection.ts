import { EventEmitter } from 'node:events';
import { createDecoder, encodeMessage, type Decoder } from './codec.js';
import { ProtocolError } from './errors.js';
import { DeadlineTimer } from './deadline-timer.js';
import { partsLength } from './frame.js';
import { releaseFrame } from './headroom.js';
import { DEFAULT_MAX_PROTOCOL_ERRORS, DEFAULT_REQUEST_TIMEOUT_MS, MAX_TEXT_LENGTH, requireCount } from './limits.js';
import { stderrLogger, type Logger } from '@dptrain/log';
import { REPLY_TYPES, SENDERS, isReplyType, type Message, type MessageType, type Outgoing, type ReplyOf, type RequestType, type Role } from './messages.js';
import { createWireStats, type WireStats } from './stats.js';
import { checkReply, type ValidateOptions } from './validate.js';

/** Who is on the other end, as established by the handshake. */
export interface PeerInfo {
  readonly role: Role;
  readonly jobId: string;
  readonly version: number;
  /** Free-form name the peer gave (x-dptrain-name), for logs. */
  readonly name: string | undefined;
  /** "host:port" of the peer, "memory" for in-memory pairs, "thread port" for another thread of this process. */
  readonly address: string;
  /** Largest frame the peer accepts; send() refuses bigger frames with E_TOO_LARGE. */
  readonly maxPayload: number;
  /** Admitted by a join token (a browser tab) instead of the job's token. */
  readonly joined?: true;
}

export interface ConnectionEvents {
  /** A valid message that is not a reply to one of our requests. */
  message: [msg: Message];
  /** A received frame was refused; an `error` reply has been sent and a log line written. */
  rejected: [error: ProtocolError];
  /** The connection closed (by either side). Pending requests have been rejected with E_CLOSED. */
  close: [code: number, reason: string];
}

/**
 * One authenticated connection to a peer, the same over WebSockets and in memory. Messages are
 * validated before `message` is emitted; replies are routed to `request()` by `re`.
 */
export interface Connection {
  readonly peer: PeerInfo;
  readonly stats: Readonly<WireStats>;
  /** False once close() was called or the link closed. */
  readonly isOpen: boolean;
  /**
   * Sends a one-way message (seq is assigned). Tensors are copied into the frame before send()
   * returns, except a tensor from allocateTensor() that is the message's only tensor: that one is
   * sent in place and must not be modified until the returned promise resolves. Resolves true once
   * the frame has been written, false if the connection closed first. Never rejects.
   * @throws ProtocolError synchronously when the message is invalid or bigger than peer.maxPayload
   */
  send(msg: Outgoing): Promise<boolean>;
  /**
   * Sends a request and resolves with its reply (the reply type of REPLY_TYPES, checked to answer
   * this request).
   * @param timeoutMs @default the connection's requestTimeoutMs (30 s)
   * @throws ProtocolError (rejects) with the peer's error code, E_TIMEOUT, E_CLOSED, or
   *   synchronously as send() does
   */
  request<M extends Outgoing<RequestType>>(msg: M, options?: { timeoutMs?: number }): Promise<ReplyOf<M['type']>>;
  /**
   * Answers `to` (a request received on this connection); `msg.type` must be its reply type. A
   * reply bigger than peer.maxPayload closes the connection (1009) and resolves false.
   */
  reply(to: Message, msg: Outgoing): Promise<boolean>;
  /** Sends an `error` message about `to` (or about the message `error.ref` names); never throws. */
  replyError(to: Message | undefined, error: ProtocolError): Promise<boolean>;
  /** Closes with a WebSocket close code (1000 normal; ERROR_CATALOG close codes for errors). */
  close(code?: number, reason?: string): void;
  on<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this;
  once<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this;
  off<E extends keyof ConnectionEvents>(event: E, listener: (...args: ConnectionEvents[E]) => void): this;
}

/** What a transport provides to a connection. */
export interface Pipe {
  /** Writes one frame given as parts; calls done(true) once written, done(false) if closed first. */
  write(parts: Uint8Array[], length: number, done: (ok: boolean) => void): void;
  /** Starts closing the link; the transport then calls PipeConnection.closed(). */
  end(code: number, reason: string): void;
}

/** Options shared by servers, clients and in-memory pairs. */
export interface ConnectionOptions {
  /** What this side knows about the model, for validating received messages. @default {} */
  readonly validateOptions?: ValidateOptions;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS (30_000) */
  readonly requestTimeoutMs?: number;
  /** Invalid messages tolerated before closing. @default DEFAULT_MAX_PROTOCOL_ERRORS (32) */
  readonly maxProtocolErrors?: number;
  /**
   * Bytes queued for a peer that does not read them before the connection is cut (E_LIMIT).
   * @default the larger of DEFAULT_MAX_BUFFERED_BYTES (16 MiB) and 4 × this side's maxPayload
   */
  readonly maxBufferedBytes?: number;
  /** @default stderrLogger (JSON lines) */
  readonly log?: Logger;
}

/** ConnectionOptions checked once, shared by all connections of a server. */
export interface ResolvedConnectionOptions {
  readonly decode: Decoder;
  readonly requestTimeoutMs: number;
  readonly maxProtocolErrors: number;
  /** Undefined: the default for each peer (see ConnectionOptions.maxBufferedBytes). */
  readonly maxBufferedBytes: number | undefined;
  readonly log: Logger;
}

/** @throws RangeError naming the invalid option */
export function resolveConnectionOptions(options: ConnectionOptions): ResolvedConnectionOptions {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const maxProtocolErrors = options.maxProtocolErrors ?? DEFAULT_MAX_PROTOCOL_ERRORS;
  requireCount('requestTimeoutMs', requestTimeoutMs, 1);
  requireCount('maxProtocolErrors', maxProtocolErrors, 1);
  if (options.maxBufferedBytes !== undefined) requireCount('maxBufferedBytes', options.maxBufferedBytes, 1);
  return {
    decode: createDecoder(options.validateOptions),
    requestTimeoutMs,
    maxProtocolErrors,
    maxBufferedBytes: options.maxBufferedBytes,
    log: options.log ?? stderrLogger,
  };
}

interface Pending {
  readonly request: Message;
  readonly expect: MessageType;
  readonly timeoutMs: number;
  readonly resolve: (reply: Message) => void;
  readonly reject: (error: ProtocolError) => void;
}

/** The transport-independent connection: sequencing, validation, request/reply, error replies. */
export class PipeConnection extends EventEmitter implements Connection {
  readonly stats: WireStats = createWireStats();
  private nextSeq = 0;
  private open = true;
  private closeReported = false;
  private errors = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly timeouts = new DeadlineTimer<number>((seq) => this.timedOut(seq));

  constructor(
    private readonly pipe: Pipe,
    readonly peer: PeerInfo,
    private readonly options: ResolvedConnectionOptions,
  ) {
    super({ captureRejections: true });
  }

  get isOpen(): boolean {
    return this.open;
  }

  send(msg: Outgoing): Promise<boolean> {
    return this.write({ ...msg, seq: this.nextSeq++ } as Message);
  }

  request<M extends Outgoing<RequestType>>(msg: M, options: { timeoutMs?: number } = {}): Promise<ReplyOf<M['type']>> {
    const full = { ...msg, seq: this.nextSeq++ } as Message;
    const expect = REPLY_TYPES[msg.type as RequestType];
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    if (!this.open) return Promise.reject(this.closedError(full, 'the connection is closed'));
    const reply = new Promise<Message>((resolve, reject) => {
      this.pending.set(full.seq, { request: full, expect, timeoutMs, resolve, reject });
    });
    try {
      void this.write(full);
    } catch (error) {
      this.pending.delete(full.seq);
      throw error;
    }
    this.timeouts.add(full.seq, timeoutMs);
    return reply as Promise<ReplyOf<M['type']>>;
  }

  reply(to: Message, msg: Outgoing): Promise<boolean> {
    const expected = (REPLY_TYPES as Partial<Record<MessageType, MessageType>>)[to.type];
    if (expected !== msg.type) {
      throw new ProtocolError(
        'E_MALFORMED',
        `${msg.type} cannot answer ${to.type}${expected ? `; its reply type is ${expected}` : ', which expects no reply'}`,
      );
    }
    return this.answer({ ...msg, seq: this.nextSeq++, re: to.seq } as Message);
  }

  replyError(to: Message | undefined, error: ProtocolError): Promise<boolean> {
    const re = to?.seq ?? error.ref;
    const message = error.message.length > MAX_TEXT_LENGTH ? `${error.message.slice(0, MAX_TEXT_LENGTH - 3)}...` : error.message;
    return this.answer({ type: 'error', seq: this.nextSeq++, code: error.code, message, ...(re === undefined ? {} : { re }) });
  }

  close(code = 1000, reason = ''): void {
    if (!this.open) return;
    this.open = false;
    this.pipe.end(code, reason);
  }

  /** Transport → connection: one received binary frame. */
  receive(bytes: Uint8Array): void {
    this.stats.framesIn++;
    this.stats.bytesIn += bytes.byteLength;
    let msg: Message;
    try {
      msg = this.options.decode(bytes, this.stats);
    } catch (error) {
      this.refuse(asProtocolError(error));
      return;
    }
    if (!SENDERS[msg.type].includes(this.peer.role)) {
      this.refuse(
        new ProtocolError('E_ROLE', `a ${this.peer.role} may not send ${msg.type} (senders: ${SENDERS[msg.type].join(', ')})`, {
          ref: msg.seq,
        }),
      );
      return;
    }
    if ((msg.type === 'error' || isReplyType(msg.type)) && 're' in msg && msg.re !== undefined) {
      const pending = this.pending.get(msg.re);
      if (pending) {
        this.settle(pending, msg);
        return;
      }
      if (msg.type !== 'error') {
        this.stats.lateReplies++;
        this.options.log({ level: 'warn', event: 'late-reply', type: msg.type, re: msg.re, peer: this.describePeer() });
        return;
      }
    }
    if (msg.type === 'error') {
      this.options.log({ level: 'warn', event: 'peer-error', code: msg.code, message: msg.message, peer: this.describePeer() });
    }
    this.deliver('message', msg);
  }

  /** Transport → connection: a frame the transport itself refused (e.g. a text frame). */
  refuse(error: ProtocolError): void {
    this.stats.rejected++;
    this.errors++;
    this.options.log({
      level: 'warn',
      event: 'message-refused',
      code: error.code,
      message: error.message,
      peer: this.describePeer(),
    });
    this.deliver('rejected', error);
    if (!this.open) return;
    void this.replyError(undefined, error);
    if (this.errors >= this.options.maxProtocolErrors) {
      this.close(error.closeCode, `${this.errors} invalid messages, last ${error.code}`);
    }
  }

  /** Transport → connection: the link is closed. */
  closed(code: number, reason: string): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.open = false;
    this.timeouts.clear();
    for (const pending of this.pending.values()) {
      pending.reject(this.closedError(pending.request, `the connection closed (${code}${reason ? ` ${reason}` : ''})`));
    }
    this.pending.clear();
    this.options.log({ level: 'info', event: 'connection-closed', code, reason, peer: this.describePeer() });
    this.deliver('close', code, reason);
  }

  describePeer(): string {
    return `${this.peer.role}${this.peer.name ? ` "${this.peer.name}"` : ''} at ${this.peer.address}`;
  }

  // Async listeners that reject land here (captureRejections), sync throws in deliver().
  [Symbol.for('nodejs.rejection')](error: unknown, event: string, ...args: unknown[]): void {
    this.handlerFailed(error, event, args[0]);
  }

  /**
   * Writes a reply the peer is owed. One its declared maxPayload cannot take means the peer cannot
   * work with us: the connection is closed (1009) instead of throwing into the code that answers,
   * which may be answering other peers in the same loop.
   */
  private answer(msg: Message): Promise<boolean> {
    try {
      return this.write(msg);
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'E_TOO_LARGE') throw error;
      const refusal = error;
      this.options.log({ level: 'warn', event: 'reply-not-sent', type: msg.type, code: refusal.code, message: refusal.message, peer: this.describePeer() });
      this.close(refusal.closeCode, `${msg.type} not sent: ${refusal.code}`);
      return Promise.resolve(false);
    }
  }

  private write(msg: Message): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    const parts = encodeMessage(msg, { inPlace: true });
    const length = partsLength(parts);
    if (length > this.peer.maxPayload) {
      releaseFrame(parts);
      throw new ProtocolError('E_TOO_LARGE', `${msg.type} frame of ${length} bytes exceeds the maxPayload ${this.peer.maxPayload} of ${this.describePeer()}`);
    }
    this.stats.framesOut++;
    this.stats.bytesOut += length;
    return new Promise((resolve) =>
      this.pipe.write(parts, length, (ok) => {
        releaseFrame(parts);
        resolve(ok);
      }),
    );
  }

  private timedOut(seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    const { request, expect, timeoutMs } = pending;
    pending.reject(
      new ProtocolError('E_TIMEOUT', `${request.type} seq ${seq} got no ${expect} from ${this.describePeer()} within ${timeoutMs} ms`, {
        ref: seq,
      }),
    );
  }

  private settle(pending: Pending, reply: Message): void {
    this.pending.delete(pending.request.seq);
    this.timeouts.delete(pending.request.seq);
    if (reply.type === 'error') {
      pending.reject(new ProtocolError(reply.code, reply.message, { ref: pending.request.seq, remote: true, verbatim: true }));
      return;
    }
    if (reply.type !== pending.expect) {
      pending.reject(
        new ProtocolError('E_MALFORMED', `${pending.request.type} seq ${pending.request.seq} expects ${pending.expect}, got ${reply.type}`, {
          ref: pending.request.seq,
        }),
      );
      return;
    }
    try {
      checkReply(pending.request, reply);
    } catch (error) {
      pending.reject(asProtocolError(error));
      return;
    }
    pending.resolve(reply);
  }

  private deliver(event: keyof ConnectionEvents, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.handlerFailed(error, event, args[0]);
    }
  }

  private handlerFailed(error: unknown, event: string, arg: unknown): void {
    this.options.log({
      level: 'error',
      event: 'handler-failed',
      on: event,
      message: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
      peer: this.describePeer(),
    });
    if (event === 'message' && this.open) {
      const msg = arg as Message;
      void this.replyError(
        msg,
        new ProtocolError('E_INTERNAL', `handling ${msg.type} seq ${msg.seq} failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }

  private closedError(request: Message, why: string): ProtocolError {
    return new ProtocolError('E_CLOSED', `${request.type} seq ${request.seq} to ${this.describePeer()} got no reply: ${why}`, {
      ref: request.seq,
    });
  }
}

/** Any error thrown while decoding becomes a ProtocolError (unexpected ones as E_MALFORMED). */
export function asProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  return new ProtocolError('E_MALFORMED', `frame could not be decoded: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
