import { PipeConnection, resolveConnectionOptions, type Connection, type ConnectionOptions, type Pipe } from './connection.js';
import { ProtocolError } from './errors.js';
import { concatParts } from './frame.js';
import { joinQuery } from './handshake-names.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_PAYLOAD, maxPayloadFor } from './limits.js';
import { PROTOCOL_VERSION, type Role } from './messages.js';

/** The members of a browser's WebSocket this transport uses (the DOM's; ws's class has them too). */
export interface BrowserSocket {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type BrowserSocketClass = new (url: string) => BrowserSocket;

const OPEN = 1;

export interface BrowserConnectOptions extends ConnectionOptions {
  readonly role: Role;
  readonly jobId: string;
  /** The join token of the link the page was opened with (never the job's token). */
  readonly joinToken: string;
  readonly name?: string;
  /**
   * Largest frame accepted from the server, in bytes.
   * @default maxPayloadFor(validateOptions.paramCount) when paramCount is set, else DEFAULT_MAX_PAYLOAD
   */
  readonly maxPayload?: number;
  /** The role the server plays: a page cannot read the 101 response that announces it. */
  readonly peerRole: Role;
  /**
   * The largest frame the server accepts, for the same reason: a shard's is maxPayloadFor(its
   * paramCount), the coordinator's the default. @default maxPayloadFor(validateOptions.paramCount), else DEFAULT_MAX_PAYLOAD
   */
  readonly peerMaxPayload?: number;
  /** @default DEFAULT_HANDSHAKE_TIMEOUT_MS */
  readonly handshakeTimeoutMs?: number;
  /** @default globalThis.WebSocket */
  readonly WebSocket?: BrowserSocketClass;
}

/**
 * Opens a connection from a browser (client.ts's `connect` for a page): the identity and the join
 * token go in the upgrade URL's query, since a page cannot set headers, and frames are masked with
 * the browser's random keys, which the server unmasks like any other. A refused upgrade gives a
 * page no status or body, so the error says what the usual causes are.
 * @throws ProtocolError (rejects) E_CONNECT when the socket does not open
 */
export function connectBrowser(url: string, options: BrowserConnectOptions): Promise<Connection> {
  const paramCount = options.validateOptions?.paramCount;
  const ownMaxPayload = options.maxPayload ?? (paramCount !== undefined ? maxPayloadFor(paramCount) : DEFAULT_MAX_PAYLOAD);
  const peerMaxPayload = options.peerMaxPayload ?? (paramCount !== undefined ? maxPayloadFor(paramCount) : DEFAULT_MAX_PAYLOAD);
  const Socket = options.WebSocket ?? (globalThis as unknown as { WebSocket: BrowserSocketClass }).WebSocket;
  const identity = { role: options.role, jobId: options.jobId, maxPayload: ownMaxPayload, ...(options.name ? { name: options.name } : {}) };
  const resolved = resolveConnectionOptions(options);
  const ws = new Socket(`${url.replace(/\?.*$/, '')}${joinQuery(identity, options.joinToken)}`);
  ws.binaryType = 'arraybuffer';
  return new Promise<Connection>((resolve, reject) => {
    let connection: PipeConnection | undefined;
    const timer = setTimeout(() => {
      fail(`no answer from ${url} within ${options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS} ms`);
      ws.close();
    }, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new ProtocolError('E_CONNECT', why));
    };
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      if (connection) connection.closed(event.code, event.reason);
      else
        fail(
          `${url} refused the connection or cannot be reached (code ${event.code}; a browser is not told which): the join link may have expired or belong to another job, or the job is over`,
        );
    };
    ws.onopen = () => {
      clearTimeout(timer);
      const pipe: Pipe = {
        write(parts, length, done) {
          if (ws.readyState !== OPEN) return done(false);
          if (ws.bufferedAmount + length > Math.max(DEFAULT_MAX_BUFFERED_BYTES, 4 * ownMaxPayload)) {
            connection!.close(1008, 'the server does not read');
            return done(false);
          }
          // A page's send() copies the frame into its queue before it returns, so the parts may be reused at once.
          ws.send(concatParts(parts));
          done(true);
        },
        end: (code, reason) => ws.close(code, reason.slice(0, 123)),
      };
      const peer = { role: options.peerRole, jobId: options.jobId, version: PROTOCOL_VERSION, name: undefined, address: url, maxPayload: peerMaxPayload };
      connection = new PipeConnection(pipe, peer, resolved);
      ws.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) connection!.receive(new Uint8Array(event.data));
        else connection!.refuse(new ProtocolError('E_MALFORMED', 'received a text frame; dptrain frames are binary'));
      };
      resolve(connection);
    };
  });
}
