import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from './ws.js';
import { type PipeConnection, resolveConnectionOptions, type Connection, type ConnectionOptions, type PeerInfo } from './connection.js';
import { ProtocolError } from './errors.js';
import {
  checkIdentity,
  checkJoinRequest,
  checkUpgradeRequest,
  isJoinRequest,
  refusalResponse,
  resolveToken,
  responseHeaderLines,
  tokenDigest,
  type PeerIdentity,
} from './handshake.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_SOCKETS,
  DEFAULT_SERVER_BUFFER_BUDGET,
  maxPayloadFor,
  requireCount,
} from './limits.js';
import { ROLES, type Role } from './messages.js';
import { attachSocket } from './ws-pipe.js';
import { listenError } from './listen-error.js';

/** How long close() waits for peers to answer the close handshake before dropping them. */
const CLOSE_GRACE_MS = 2_000;

export interface ServerOptions extends ConnectionOptions {
  /** @default 0 (a free port, read it back from `port`) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Listen on this socket, bound and listening already (a descriptor inherited from the parent
   * process, which chose host and port), instead of binding host:port; `host` is still the address
   * announced in `url`.
   */
  readonly fd?: number;
  /** Shared secret of the job. @default process.env.DPTRAIN_TOKEN */
  readonly token?: string;
  readonly jobId: string;
  /** This server's role, announced to clients. */
  readonly role: Role;
  /** Roles allowed to connect. @default every role */
  readonly acceptRoles?: readonly Role[];
  /** Name announced to clients (x-dptrain-name), for their logs. */
  readonly name?: string;
  /**
   * Largest frame accepted, in bytes; bigger frames close the connection with 1009.
   * @default maxPayloadFor(validateOptions.paramCount) when paramCount is set, else 1 MiB
   */
  readonly maxPayload?: number;
  /** Called with each authenticated connection, before any message is delivered. */
  readonly onConnection: (connection: Connection) => void;
  /** Plain HTTP requests on the same port (dashboard, metrics). @default answers 426 Upgrade Required */
  readonly onRequest?: (request: IncomingMessage, response: ServerResponse) => void;
  /** Serve wss:// (and https://) with this certificate and key (PEM). @default plain ws:// */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Authenticated connections accepted at once per peer role; the next is refused (E_LIMIT, 429). @default DEFAULT_CONNECTION_LIMITS */
  readonly maxConnections?: Partial<Record<Role, number>>;
  /** Sockets held before their HTTP request or upgrade is complete; more are dropped. @default DEFAULT_MAX_PENDING_SOCKETS (64) */
  readonly maxPendingSockets?: number;
  /** How long a socket may take to send its request headers. @default DEFAULT_HEADERS_TIMEOUT_MS (5 s) */
  readonly headersTimeoutMs?: number;
  /** Bytes all connections together may queue for slow readers. @default DEFAULT_SERVER_BUFFER_BUDGET (256 MiB) */
  readonly bufferBudget?: number;
}

export interface ProtocolServer {
  readonly port: number;
  readonly host: string;
  /** ws://host:port/, or wss://host:port/ with `tls` */
  readonly url: string;
  /** Open connections. */
  readonly connections: ReadonlySet<Connection>;
  /** Closes every connection (1001 going away) and stops listening. */
  close(): Promise<void>;
}

/**
 * Listens for WebSocket connections that pass the handshake (see handshake.ts). A refused upgrade
 * is answered with an HTTP error before any WebSocket exists; invalid messages on an accepted
 * connection get an `error` reply and a log line, and the connection stays up until it has sent
 * maxProtocolErrors of them.
 *
 * @throws RangeError (rejects) on invalid options; the listen error when the port is taken
 * @example
 * const server = await createServer({ jobId, role: 'ps', validateOptions: { paramCount },
 *   onConnection: (conn) => conn.on('message', (msg) => { ... }) });
 */
export async function createServer(options: ServerOptions): Promise<ProtocolServer> {
  const token = resolveToken(options.token);
  const paramCount = options.validateOptions?.paramCount;
  const maxPayload = options.maxPayload ?? (paramCount !== undefined ? maxPayloadFor(paramCount) : DEFAULT_MAX_PAYLOAD);
  const identity = { role: options.role, jobId: options.jobId, maxPayload, name: options.name };
  checkIdentity(identity);
  const acceptRoles = options.acceptRoles ?? ROLES;
  const port = options.port ?? 0;
  requireCount('port', port, 0);
  const host = options.host ?? '127.0.0.1';
  const resolved = resolveConnectionOptions(options);
  const log = resolved.log;
  const digest = tokenDigest(token);
  const connections = new Set<PipeConnection>();
  const terminators = new Map<PipeConnection, () => void>();
  const sockets = new Set<WebSocket>();
  const budget = { limit: options.bufferBudget ?? DEFAULT_SERVER_BUFFER_BUDGET, used: () => [...sockets].reduce((n, s) => n + s.bufferedAmount, 0) };
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.maxConnections };
  const maxPending = options.maxPendingSockets ?? DEFAULT_MAX_PENDING_SOCKETS;
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  requireCount('maxPendingSockets', maxPending, 1);
  requireCount('headersTimeoutMs', headersTimeout, 1);
  for (const [role, limit] of Object.entries(limits)) requireCount(`maxConnections.${role}`, limit, 0);

  const onRequest =
    options.onRequest ??
    ((_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      response.end('dptrain: connect with a WebSocket client (@dptrain/protocol connect())\n');
    });
  const http: HttpServer = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, handshakeTimeout: headersTimeout }, onRequest)
    : createHttpServer(onRequest);
  // Sockets that have not finished their request, each with the timer that drops it: a peer
  // opening many and sending nothing is cut off here, before any handshake.
  const pending = new Map<Socket, NodeJS.Timeout>();
  const settled = (socket: Socket): void => {
    clearTimeout(pending.get(socket));
    pending.delete(socket);
  };
  const drop = (socket: Socket, why: string): void => {
    log({ level: 'warn', event: 'socket-dropped', code: 'E_LIMIT', message: `dropped ${socket.remoteAddress}:${socket.remotePort}: ${why}` });
    socket.destroy();
  };
  http.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (pending.size >= maxPending) {
      drop(socket, `${pending.size} sockets have not finished their request (maxPendingSockets ${maxPending})`);
      return;
    }
    const timer = setTimeout(() => pending.has(socket) && drop(socket, `no complete request within ${headersTimeout} ms (headersTimeoutMs)`), headersTimeout);
    timer.unref();
    pending.set(socket, timer);
    socket.once('close', () => settled(socket));
  });
  http.on('request', (request: IncomingMessage) => settled(request.socket));
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
  wss.on('headers', (headers) => headers.push(...responseHeaderLines(identity)));

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    settled(request.socket);
    socket.on('error', (error) => log({ level: 'warn', event: 'socket-error', message: error.message }));
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    let peer: PeerIdentity;
    try {
      peer = isJoinRequest(request.headers, request.url)
        ? checkJoinRequest(request.url!, token, options.jobId, acceptRoles)
        : checkUpgradeRequest(request.headers, digest, options.jobId, acceptRoles);
      const open = [...connections].filter((c) => c.peer.role === peer.role).length;
      if (open >= limits[peer.role]) {
        throw new ProtocolError(
          'E_LIMIT',
          `${open} ${peer.role} connections are open, the most this ${options.role} accepts (maxConnections.${peer.role} ${limits[peer.role]})`,
        );
      }
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_HANDSHAKE', String(error));
      log({ level: 'warn', event: 'handshake-refused', code: refusal.code, message: refusal.message, address });
      socket.end(refusalResponse(refusal));
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const info: PeerInfo = {
        role: peer.role,
        jobId: peer.jobId,
        version: peer.version,
        name: peer.name,
        address,
        maxPayload: peer.maxPayload,
        ...(peer.joined ? { joined: true as const } : {}),
      };
      const { connection, terminate } = attachSocket(ws, info, resolved, maxPayload, budget);
      connections.add(connection);
      terminators.set(connection, terminate);
      sockets.add(ws);
      connection.on('close', () => {
        connections.delete(connection);
        terminators.delete(connection);
        sockets.delete(ws);
      });
      log({ level: 'info', event: 'connection-open', role: info.role, name: info.name, address });
      try {
        options.onConnection(connection);
      } catch (error) {
        log({ level: 'error', event: 'handler-failed', on: 'connection', message: String(error) });
        connection.close(1011, 'connection handler failed');
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(listenError(error, host, port));
    http.once('error', failed);
    const listening = (): void => {
      http.off('error', failed);
      resolve();
    };
    if (options.fd !== undefined) http.listen({ fd: options.fd }, listening);
    else http.listen(port, host, listening);
  });
  const bound = http.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;

  return {
    port: boundPort,
    host,
    url: `${options.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`,
    connections,
    close: async () => {
      const closing = [...connections].map((connection) => {
        const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
        connection.close(1001, 'server closing');
        return closed;
      });
      // Peers normally answer the close frame at once; one that does not is dropped.
      const grace = setTimeout(() => {
        for (const terminate of terminators.values()) terminate();
      }, CLOSE_GRACE_MS);
      await Promise.all(closing);
      clearTimeout(grace);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
