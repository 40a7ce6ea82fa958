import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import type { JsonValue } from '@dptrain/protocol';
import { APP_ROOT } from '../app-root.js';
import type { DashboardEvent, DashboardEvents } from './dashboard-events.js';

/** The page's files: index.html at `/`, its scripts, style sheet and icon at `/dashboard/<name>`. */
const ASSET_DIR = join(APP_ROOT, 'src', 'dashboard');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** How often each open stream gets the coordinator's status. */
export const STATUS_EVERY_MS = 1_000;
/** Streams open at once; more are refused (each holds a timer and a socket). */
export const MAX_STREAMS = 32;
/** Bytes a stream may have queued for a page that does not read; past it the stream is cut (the page reconnects and gets the history). */
export const MAX_QUEUED_BYTES = 4 << 20;

/**
 * Sent with the page and its stream: scripts, styles and fetches from this origin only (no inline
 * code, nothing from elsewhere), and no Referer, so no URL of the page ever leaves it.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/**
 * The dashboard's address for a coordinator listening at `serverUrl` (its ws:// or wss:// URL),
 * with the token in the fragment: browsers never send a fragment, so the token reaches the page
 * and not the server's URLs or logs. An unspecified listening address is shown as loopback.
 */
export function dashboardUrl(serverUrl: string, token: string): string {
  return `${dashboardAddress(serverUrl)}#token=${encodeURIComponent(token)}`;
}

/** The dashboard's address without the token: what a long-lived role logs, so its logs never hold the secret. */
export function dashboardAddress(serverUrl: string): string {
  return serverUrl.replace(/^ws/, 'http').replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

let assets: Promise<Map<string, { body: Buffer; type: string }>> | undefined;

/** The page's files by URL path, read once. */
function pageAssets(): Promise<Map<string, { body: Buffer; type: string }>> {
  assets ??= readdir(ASSET_DIR).then(async (names) => {
    const served = names.filter((name) => /^[a-z-]+\.(js|css|svg)$/.test(name)).map((name) => [`/dashboard/${name}`, name] as const);
    const files = [['/', 'index.html'] as const, ...served];
    return new Map(
      await Promise.all(files.map(async ([path, name]) => [path, { body: await readFile(join(ASSET_DIR, name)), type: TYPES[extname(name)]! }] as const)),
    );
  });
  return assets;
}

/** Serves the page's file at `path` (GET /, GET /dashboard/…); false when `path` is none of them. */
export function servesPage(path: string): boolean {
  return path === '/' || path.startsWith('/dashboard/');
}

export function servePage(path: string, response: ServerResponse): void {
  void pageAssets().then(
    (files) => {
      const file = files.get(path);
      if (!file) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`dptrain coordinator: no ${path}; the dashboard is at /\n`);
        return;
      }
      response.writeHead(200, { ...PAGE_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' }).end(file.body);
    },
    (error: Error) =>
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`dptrain coordinator: the dashboard's files cannot be read: ${error.message}\n`),
  );
}

/**
 * GET /events (the caller checked the token): a Server-Sent Events stream of the dashboard's
 * history, then each event as it happens, and the coordinator's status every STATUS_EVERY_MS
 * (read with `readStatus`, shared with GET /status). Ends when the page goes away.
 */
export function eventStreams(hub: DashboardEvents, readStatus: () => Promise<{ [key: string]: JsonValue }>): (response: ServerResponse) => void {
  let open = 0;
  return (response) => {
    if (open >= MAX_STREAMS) {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      response.end(
        `${JSON.stringify({ code: 'E_LIMIT', message: `${open} dashboard streams are open, the most the coordinator serves (${MAX_STREAMS}); close a dashboard tab` })}\n`,
      );
      return;
    }
    open++;
    response.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const send = (event: DashboardEvent): void => {
      if (response.writableEnded || response.destroyed) return;
      if (response.writableLength > MAX_QUEUED_BYTES) {
        response.destroy();
        return;
      }
      response.write(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`);
      // Nothing comes after the job's end: the stream ends cleanly instead of being cut when the server closes.
      if (event.event === 'end') response.end();
    };
    for (const event of hub.history()) send(event);
    const unsubscribe = hub.subscribe(send);
    // One read at a time: a slow one (the shards' counters) is not stacked up behind the timer.
    let reading = false;
    const tick = (): void => {
      if (reading) return;
      reading = true;
      readStatus().then(
        (status) => {
          reading = false;
          send(hub.statusEvent(status));
        },
        () => (reading = false),
      );
    };
    tick();
    const timer = setInterval(tick, STATUS_EVERY_MS);
    response.once('close', () => {
      open--;
      clearInterval(timer);
      unsubscribe();
    });
  };
}
