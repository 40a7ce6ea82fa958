import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { JsonValue } from '@dptrain/protocol';
import type { Registry } from 'prom-client';
import { tokenGuard } from './bearer-token.js';
import type { DashboardEvents } from './dashboard-events.js';
import { joinLink, serveWorkerPage, servesWorkerPage } from './browser-worker-http.js';
import { eventStreams, servePage, servesPage } from './dashboard-http.js';
import { jobId } from './announce.js';

/** How long one answer of GET /status is served again: every answer asks every shard for its counters. */
export const STATUS_CACHE_MS = 1_000;

export interface StatusSource {
  /** Asks the shards for their counters (one request each). */
  refreshShardStatus(): Promise<unknown>;
  status(): { [key: string]: JsonValue };
}

/**
 * The coordinator's plain-HTTP routes on its WebSocket port:
 * - `GET /healthz`: 200 `ok`, nothing else, for container and Kubernetes probes;
 * - `GET /status`: the job's state as JSON, to holders of the job's token only
 *   (`Authorization: Bearer <token>`, else 401): it names shard addresses, workers and faults.
 *   Answers are shared for STATUS_CACHE_MS, so a flood of requests cannot fan out to the shards.
 * - `GET /metrics`: the same facts in the Prometheus text format, with the same token (Prometheus:
 *   `authorization: { credentials_file: … }`).
 * - `GET /` (and `/dashboard/…`): the dashboard's page, to anyone (it holds no data); the page
 *   reads `GET /events`, the live stream of `dashboard`, with the same token.
 * - `GET /worker` (and `/worker/…`): the browser worker's page, to anyone; it joins with the
 *   join token of its link. `GET /join`, with the job's token: `{ url }`, a fresh join link
 *   (the dashboard's "join as a worker").
 */
export function statusRoutes(
  token: string,
  source: StatusSource,
  registry: Registry,
  dashboard: DashboardEvents,
): (request: IncomingMessage, response: ServerResponse) => void {
  const authorized = tokenGuard(token);
  // One refresh of the shards' counters serves /status, /metrics and the dashboard's streams for STATUS_CACHE_MS together.
  let refreshed: { at: number; done: Promise<unknown> } | undefined;
  const refresh = (): Promise<unknown> => {
    const now = Date.now();
    if (!refreshed || now - refreshed.at > STATUS_CACHE_MS) refreshed = { at: now, done: source.refreshShardStatus() };
    return refreshed.done;
  };
  const body = (): Promise<string> => refresh().then(() => `${JSON.stringify(source.status())}\n`);
  const metrics = (): Promise<string> => refresh().then(() => registry.metrics());
  const events = eventStreams(dashboard, () => refresh().then(() => source.status()));
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (request.method === 'GET' && servesPage(path)) {
      servePage(path, response);
      return;
    }
    if (request.method === 'GET' && servesWorkerPage(path)) {
      serveWorkerPage(path, response);
      return;
    }
    if (request.method === 'GET' && path === '/join') {
      if (!authorized(request, response, path)) return;
      const scheme = (request.socket as TLSSocket).encrypted ? 'https' : 'http';
      const url = joinLink(`${scheme}://${request.headers.host ?? '127.0.0.1'}/`, token, jobId());
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify({ url })}\n`);
      return;
    }
    if (request.method === 'GET' && (path === '/status' || path === '/metrics' || path === '/events')) {
      if (!authorized(request, response, path)) return;
      if (path === '/events') events(response);
      else if (path === '/metrics') void metrics().then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
      else void body().then((text) => response.writeHead(200, { 'content-type': 'application/json' }).end(text));
      return;
    }
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end(
        'dptrain coordinator: GET / (the dashboard), GET /worker (a browser worker), GET /healthz, GET /status, /metrics, /events or /join (with the token), or connect with a WebSocket client\n',
      );
  };
}

/**
 * GET /status of the coordinator at `coordinator` (its ws:// or wss:// URL) with the job's token.
 * @throws when the coordinator cannot be reached or refuses the token
 */
export async function fetchStatus<T>(coordinator: string, token: string): Promise<T> {
  const response = await fetch(`${coordinator.replace(/^ws/, 'http')}status`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${coordinator}status answered ${response.status}: ${(await response.text()).trim()}`);
  return (await response.json()) as T;
}
