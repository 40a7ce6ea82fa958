// Container health check of a dptrain server: GET http://HOST:PORT/PATH, healthy when the answer
// has the expected status. HOST and PORT are the ones the role itself listens on (DPTRAIN_HOST,
// DPTRAIN_PORT; a wildcard host is asked on loopback), so the check follows the role's settings.
//
//   node docker/healthcheck.mjs /healthz 200  # coordinator: GET /healthz answers ok
//   node docker/healthcheck.mjs / 426         # parameter server: a WebSocket-only port answers 426
//
// Plain JavaScript, not TypeScript through tsx: it runs every few seconds and must start fast.
const [path = '/healthz', expected = '200'] = process.argv.slice(2);
const listen = process.env.DPTRAIN_HOST || '127.0.0.1';
const host = listen === '0.0.0.0' ? '127.0.0.1' : listen === '::' ? '::1' : listen;
const port = process.env.DPTRAIN_PORT || '7000';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  if (String(response.status) !== expected) {
    console.error(`unhealthy: GET ${url} answered ${response.status}, expected ${expected}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`unhealthy: GET ${url} failed: ${error instanceof Error ? (error.cause?.message ?? error.message) : error}`);
  process.exit(1);
}
