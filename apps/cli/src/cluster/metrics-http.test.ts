import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { healthzOr404, metricsRoute, serveMetrics, webSocketOnly, type MetricsServer } from './metrics-http.js';

const TOKEN = 'metrics-http-test-token';
const FLAGS = { host: '--metrics-host', port: '--metrics-port' };
const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'dptrain_test_total', help: 'A count.', registers: [r] }).inc(3);
  return r;
}

async function serve(otherwise: Parameters<typeof metricsRoute>[2]): Promise<MetricsServer> {
  const server = await serveMetrics('127.0.0.1', 0, metricsRoute(TOKEN, registry(), otherwise), FLAGS);
  servers.push(server);
  return server;
}

describe('metricsRoute on serveMetrics', () => {
  it("answers GET /metrics to holders of the job's token only, and /healthz to anyone", async () => {
    const { url } = await serve(healthzOr404('worker-0'));
    const without = await fetch(url);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toBe('Bearer realm="dptrain"');
    expect(await without.json()).toMatchObject({ code: 'E_AUTH', message: expect.stringContaining('Authorization: Bearer $DPTRAIN_TOKEN') });
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    const granted = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(granted.status).toBe(200);
    expect(granted.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await granted.text()).toMatch(/^dptrain_test_total 3$/m);
    const base = url.replace(/metrics$/, '');
    expect([(await fetch(`${base}healthz`)).status, (await fetch(`${base}status`)).status]).toEqual([200, 404]);
  });

  it("leaves a shard's other requests to the WebSocket port's answer, 426", async () => {
    const { url } = await serve(webSocketOnly('ps-0'));
    const other = await fetch(url.replace(/metrics$/, ''));
    expect([other.status, other.headers.get('upgrade')]).toEqual([426, 'websocket']);
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('names the option to change when its port is taken', async () => {
    const { port } = await serve(healthzOr404('worker-0'));
    await expect(serveMetrics('127.0.0.1', port, healthzOr404('worker-1'), FLAGS)).rejects.toThrow(
      `127.0.0.1:${port} is already in use (another dptrain process, or an earlier run still going?); stop it, or give another --metrics-port (0 picks a free one)`,
    );
  });
});
