import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from './ws.js';
import {
  type PipeConnection,
  resolveConnectionOptions,
  type Connection,
  type ConnectionOptions,
  type PeerInfo,
} from './connection.js';
import { ProtocolError } from './errors.js';
import {
  checkIdentity,
  checkUpgradeRequest,
  refusalResponse,
  resolveToken,
  responseHeaderLines,
  tokenDigest,
  type PeerIdentity,
} from './handshake.js';
import { DEFAULT_MAX_PAYLOAD, maxPayloadFor, requireCount } from './limits.js';
import { ROLES, type Role } from './messages.js';
import { attachSocket } from './ws-pipe.js';

/** How long close() waits for peers to answer the close handshake before dropping them. */
const CLOSE_GRACE_MS = 2_000;

export interface ServerOptions extends ConnectionOptions {
  /** @default 0 (a free port, read it back from `port`) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
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
}

export interface ProtocolServer {
  readonly port: number;
  readonly host: string;
  /** ws://host:port/ */
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

  const http = createHttpServer(
    options.onRequest ??
      ((_request, response) => {
        response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
        response.end('dptrain: connect with a WebSocket client (@dptrain/protocol connect())\n');
      }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
  wss.on('headers', (headers) => headers.push(...responseHeaderLines(identity)));

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log({ level: 'warn', event: 'socket-error', message: error.message }));
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    let peer: PeerIdentity;
    try {
      peer = checkUpgradeRequest(request.headers, digest, options.jobId, acceptRoles);
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
      };
      const { connection, terminate } = attachSocket(ws, info, resolved);
      connections.add(connection);
      terminators.set(connection, terminate);
      connection.on('close', () => {
        connections.delete(connection);
        terminators.delete(connection);
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
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const bound = http.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;

  return {
    port: boundPort,
    host,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`,
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
