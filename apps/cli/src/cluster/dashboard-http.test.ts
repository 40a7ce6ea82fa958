import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '@dptrain/config';
import { verifyJoinToken } from '@dptrain/protocol';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { jobId } from './announce.js';
import { DashboardEvents } from './dashboard-events.js';
import { dashboardUrl, MAX_STREAMS } from './dashboard-http.js';
import { statusRoutes } from './status-http.js';

const TOKEN = 'dashboard-http-test-token';
const servers: Server[] = [];

/** The coordinator's HTTP routes on a free port, over a hub and a fixed status. */
async function start(): Promise<{ base: string; hub: DashboardEvents }> {
  const hub = new DashboardEvents({ config: parseConfig({}), totalSteps: 10, stepsPerEpoch: 5, startedAt: 0 });
  const source = { refreshShardStatus: async () => [], status: () => ({ state: 'training', step: 3, workers: [], faults: [] }) };
  const server = createServer(statusRoutes(TOKEN, source, new Registry(), hub));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hub };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Seen = { event: string; data: unknown }[];

/**
 * The events of a stream as they arrive: `until` reads on until a state holds (never for a length
 * of time), `toEnd` until the server ends the stream.
 */
function eventsOf(response: Response): {
  until: (enough: (events: Seen) => boolean) => Promise<Seen>;
  toEnd: () => Promise<Seen>;
  close: () => Promise<void>;
} {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const parsed = (): Seen =>
    text
      .split('\n\n')
      .slice(0, -1)
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as unknown }));
  return {
    async until(enough) {
      for (;;) {
        const events = parsed();
        if (enough(events)) return events;
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended after ${events.map((e) => e.event).join(', ')}`);
        text += decoder.decode(value, { stream: true });
      }
    },
    async toEnd() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return parsed();
        text += decoder.decode(value, { stream: true });
      }
    },
    close: () => reader.cancel(),
  };
}

const authorized = { headers: { authorization: `Bearer ${TOKEN}` } };

describe("the coordinator's dashboard routes", () => {
  it('serve the page and every file it names, under a same-origin content policy and without a referrer', async () => {
    const { base } = await start();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    const named = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(named).toContain('/dashboard/main.js');
    for (const path of named) {
      const file = await fetch(`${base}${path}`);
      expect(file.status, path).toBe(200);
      expect(file.headers.get('content-type'), path).toMatch(/^(text\/(javascript|css)|image\/svg\+xml)/);
    }
    // Each module the page imports is served too.
    const main = await (await fetch(`${base}/dashboard/main.js`)).text();
    for (const [, name] of main.matchAll(/from '\.\/([a-z-]+\.js)'/g)) expect((await fetch(`${base}/dashboard/${name}`)).status, name).toBe(200);
  });

  it('serve nothing else from the page folder', async () => {
    const { base } = await start();
    for (const path of [
      '/dashboard/tsconfig.json',
      '/dashboard/sse.test.ts',
      '/dashboard/%2e%2e/status-http.ts',
      '/dashboard/../cluster/status-http.ts',
      '/index.html',
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it('refuse GET /events without the token or with another one', async () => {
    const { base } = await start();
    const none = await fetch(`${base}/events`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toMatch(/needs the job's token/);
    expect((await fetch(`${base}/events`, { headers: { authorization: 'Bearer another-jobs-token-0000' } })).status).toBe(401);
  });

  it('stream the history, then the live events and the status each second', async () => {
    const { base, hub } = await start();
    hub.step({ step: 1, epoch: 1, loss: 2, lr: 0.1, gradNorm: 1 });
    const response = await fetch(`${base}/events`, authorized);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const stream = eventsOf(response);
    await stream.until((seen) => seen.some((e) => e.event === 'faults'));
    // A step closes after the page connected: it comes through as it happens.
    hub.step({ step: 2, epoch: 1, loss: 1.5, lr: 0.1, gradNorm: 1 });
    // The status each second tells the last step, and the next one after the step names it.
    const statusAfterStep = (seen: Seen): unknown =>
      seen.find((e) => e.event === 'status' && (e.data as { lastStep: { step: number } }).lastStep.step === 2)?.data;
    const events = await stream.until((seen) => seen.some((e) => e.event === 'step') && statusAfterStep(seen) !== undefined);
    await stream.close();
    expect(events.slice(0, 4).map((e) => e.event)).toEqual(['job', 'steps', 'evals', 'faults']);
    expect((events[1]!.data as { step: number }[]).map((p) => p.step)).toEqual([1]);
    expect(events.find((e) => e.event === 'step')!.data).toMatchObject({ step: 2, loss: 1.5 });
    expect(statusAfterStep(events)).toMatchObject({ state: 'training', step: 3, faultCount: 0, lastStep: { step: 2, loss: 1.5 } });
  });

  it("end the stream cleanly after the job's end, for pages connected then and later", async () => {
    const { base, hub } = await start();
    const connected = eventsOf(await fetch(`${base}/events`, authorized));
    await connected.until((seen) => seen.some((e) => e.event === 'faults'));
    hub.end({ state: 'done', steps: 10, testAccuracy: 0.5, testLoss: 1, wallSeconds: 2 });
    expect((await connected.toEnd()).at(-1)).toEqual({ event: 'end', data: { state: 'done', steps: 10, testAccuracy: 0.5, testLoss: 1, wallSeconds: 2 } });
    const later = await eventsOf(await fetch(`${base}/events`, authorized)).toEnd();
    expect(later.map((e) => e.event)).toEqual(['job', 'steps', 'evals', 'faults', 'end']);
  });

  it(`serve at most ${MAX_STREAMS} streams at once, and free a place when a page goes`, async () => {
    const { base } = await start();
    const open = await Promise.all(Array.from({ length: MAX_STREAMS }, () => fetch(`${base}/events`, authorized)));
    expect(open.map((r) => r.status)).toEqual(open.map(() => 200));
    const refused = await fetch(`${base}/events`, authorized);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { message: string }).message).toMatch(/close a dashboard tab/);
    await open[0]!.body!.cancel();
    // The server sees the page go when its socket closes: ask until it has.
    for (;;) {
      const again = await fetch(`${base}/events`, authorized);
      await again.body!.cancel();
      if (again.status === 200) break;
    }
    await Promise.all(open.slice(1).map((r) => r.body!.cancel()));
  });
});

describe('dashboardUrl', () => {
  it('is the http(s) address of the coordinator with the token in the fragment', () => {
    expect(dashboardUrl('ws://127.0.0.1:7000/', 'a b#c')).toBe('http://127.0.0.1:7000/#token=a%20b%23c');
    expect(dashboardUrl('wss://0.0.0.0:7000/', 't')).toBe('https://127.0.0.1:7000/#token=t');
    expect(dashboardUrl('ws://[::]:7000/', 't')).toBe('http://[::1]:7000/#token=t');
  });
});

describe("the browser worker's routes", () => {
  it('serve the page, its script and the wasm binaries to anyone, with a policy that allows WebAssembly and nothing from elsewhere', async () => {
    const { base } = await start();
    const page = await fetch(`${base}/worker`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self' 'wasm-unsafe-eval'/);
    expect(await page.text()).toContain('src="/worker/app.js"');
    const script = await fetch(`${base}/worker/app.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    // The bundle imports no module: a page could not load a Node one.
    expect(await script.text()).not.toMatch(/^import\s|[;}]import\s*["{*]/m);
    const wasm = await fetch(`${base}/worker/wasm/tfjs-backend-wasm-simd.wasm`);
    expect([wasm.status, wasm.headers.get('content-type')]).toEqual([200, 'application/wasm']);
    // WebAssembly's magic number: the file is a module, not an error page.
    expect([...new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
    expect((await fetch(`${base}/worker/wasm/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/worker/other.js`)).status).toBe(404);
  });

  it('GET /join gives holders of the token a join link whose token admits a worker of this job only', async () => {
    const { base } = await start();
    expect((await fetch(`${base}/join`)).status).toBe(401);
    const answer = await fetch(`${base}/join`, authorized);
    const { url } = (await answer.json()) as { url: string };
    expect(url).toMatch(new RegExp(`^${base}/worker#join=`));
    expect(url).not.toContain(TOKEN);
    const joinToken = url.slice(url.indexOf('#join=') + '#join='.length);
    expect(verifyJoinToken(joinToken, TOKEN, jobId())).toMatchObject({ role: 'worker', job: jobId() });
  });
});
