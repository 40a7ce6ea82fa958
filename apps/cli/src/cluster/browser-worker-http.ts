import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DEFAULT_JOIN_TTL_MS, mintJoinToken } from '@dptrain/protocol';
import { APP_ROOT } from '../app-root.js';
import { BROWSER_WORKER_DIR, buildBrowserWorker } from './browser-bundle.js';

/**
 * The browser worker's page and what it loads, to anyone (they hold no secret; joining takes the
 * join token of a link): GET /worker, /worker/app.js (built on the first request),
 * /worker/worker.css and /worker/wasm/<binary> (TensorFlow.js's wasm backend).
 * The page may run WebAssembly and open WebSockets to the shards, which listen on other ports.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const WASM_DIR = dirname(createRequire(join(APP_ROOT, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm'));
const WASM_BINARIES = new Set(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']);

const FILES: Record<string, () => Promise<{ body: string | Buffer; type: string }>> = {
  '/worker': async () => ({ body: await readFile(join(BROWSER_WORKER_DIR, 'index.html')), type: 'text/html; charset=utf-8' }),
  '/worker/app.js': async () => ({ body: await (bundle ??= buildBrowserWorker()), type: 'text/javascript; charset=utf-8' }),
  '/worker/worker.css': async () => ({ body: await readFile(join(BROWSER_WORKER_DIR, 'worker.css')), type: 'text/css; charset=utf-8' }),
};

let bundle: Promise<string> | undefined;

export function servesWorkerPage(path: string): boolean {
  return path === '/worker' || path.startsWith('/worker/');
}

export function serveWorkerPage(path: string, response: ServerResponse): void {
  const name = path.startsWith('/worker/wasm/') ? path.slice('/worker/wasm/'.length) : undefined;
  const file =
    name !== undefined && WASM_BINARIES.has(name) ? async () => ({ body: await readFile(join(WASM_DIR, name)), type: 'application/wasm' }) : FILES[path];
  if (!file) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`dptrain coordinator: no ${path}; the browser worker's page is /worker#join=<token>\n`);
    return;
  }
  file().then(
    ({ body, type }) => response.writeHead(200, { ...PAGE_HEADERS, 'content-type': type }).end(body),
    (error: Error) => {
      // A bundle that failed to build is built again on the next request.
      if (path === '/worker/app.js') bundle = undefined;
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`dptrain coordinator: cannot serve ${path}: ${error.message}\n`);
    },
  );
}

/** A link that admits one more worker (a browser tab) to the job until `ttlMs` from now. */
export function joinLink(pageBase: string, token: string, jobId: string, ttlMs = DEFAULT_JOIN_TTL_MS): string {
  return `${pageBase.replace(/\/?$/, '/')}worker#join=${mintJoinToken(token, jobId, { ttlMs })}`;
}
