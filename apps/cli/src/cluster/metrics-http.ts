import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenError } from '@dptrain/protocol/listen';
import type { Registry } from 'prom-client';
import { tokenGuard } from './bearer-token.js';

type Route = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * `GET /metrics` of a shard (on its WebSocket port) or a worker (on its metrics port): `registry`
 * in the Prometheus text format, to holders of the job's token only (`Authorization: Bearer
 * <token>`, else 401; Prometheus: `authorization: { credentials_file: … }`). `otherwise` answers
 * every other request.
 */
export function metricsRoute(token: string, registry: Registry, otherwise: Route): Route {
  const authorized = tokenGuard(token);
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (request.method !== 'GET' || path !== '/metrics') {
      otherwise(request, response);
      return;
    }
    if (!authorized(request, response, path)) return;
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`dptrain: the metrics could not be read: ${String(error)}\n`),
    );
  };
}

/** A worker's other requests: `GET /healthz` answers 200 `ok` to anyone (probes), anything else 404. */
export function healthzOr404(name: string): Route {
  return (request, response) => {
    if (request.method === 'GET' && (request.url ?? '/').split('?')[0] === '/healthz') response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else response.writeHead(404, { 'content-type': 'text/plain' }).end(`dptrain ${name}: GET /healthz, GET /metrics (with the token)\n`);
  };
}

/**
 * A shard's other requests: 426 Upgrade Required, as before it served metrics (the compose file's
 * health check of a shard expects exactly that of `GET /`).
 */
export function webSocketOnly(name: string): Route {
  return (_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end(`dptrain ${name}: connect with a WebSocket client; GET /metrics (with the token)\n`);
  };
}

/** How long a client may take to send a request: as the WebSocket ports allow (DEFAULT_HEADERS_TIMEOUT_MS). */
const REQUEST_TIMEOUT_MS = 5_000;
/** Sockets held at once: a scraper needs one; more are refused (the WebSocket ports hold 64 half-open). */
const MAX_SOCKETS = 64;

export interface MetricsServer {
  readonly port: number;
  /** http://host:port/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A plain-HTTP server for `routes` on `host:port` (0: any free port), for a process that has no
 * other port (a worker). `flags` name the options that set host and port, for the error when the
 * port is taken.
 * @throws (rejects) the listen error in words a user can act on (port in use, no such address)
 */
export async function serveMetrics(host: string, port: number, routes: Route, flags: { host: string; port: string }): Promise<MetricsServer> {
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS }, routes);
  server.maxConnections = MAX_SOCKETS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port, flags)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
