// The browser worker's page (served at /worker): the same Worker as `dptrain worker`, over the
// page's WebSockets, admitted by the join token of the link (#join=…), with the samples of each
// lease sent by the coordinator. What the tab does is shown on the page and kept in
// `window.dptrainWorker` for scripts (the end-to-end test reads it).
import { SAMPLES_MAX_PAYLOAD, Worker } from '@dptrain/cluster';
import type { LogRecord } from '@dptrain/log';
import { connectBrowser, DEFAULT_MAX_PAYLOAD, maxPayloadFor, readJoinClaims } from '@dptrain/protocol';
import { initBrowserBackend } from './browser-backend.js';
import { PageView, STOPPED_FROM_PAGE, type TabState } from './page-view.js';

declare global {
  interface Window {
    dptrainWorker: TabState;
  }
}

// lease-computer.ts yields to the event loop with setImmediate, which browsers lack. A message
// to ourselves runs after the pending events, as setImmediate does; setTimeout(0) would be held
// back to 4 ms once such calls nest, twice per lease.
const immediate = new MessageChannel();
const due: (() => void)[] = [];
immediate.port1.onmessage = () => due.shift()?.();
globalThis.setImmediate ??= ((callback: () => void) => {
  due.push(callback);
  immediate.port2.postMessage(null);
}) as unknown as typeof setImmediate;

/**
 * A page is told nothing of why a connection was refused (an expired link, another job's) or could
 * not be made: it tries a few times over some ten seconds, then says so, instead of a Node worker's
 * two minutes of back-off.
 */
const RECONNECT = { initialMs: 250, maxMs: 4_000, maxAttempts: 6 } as const;

const view = new PageView(document);
window.dptrainWorker = view.state;

/** The join token of the link, taken out of the address bar so it is not kept in the history. */
function takeJoinToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('join') ?? undefined;
  history.replaceState(null, '', location.pathname);
  return token;
}

async function main(): Promise<void> {
  const token = takeJoinToken();
  const claims = token === undefined ? undefined : readJoinClaims(token);
  if (!token || !claims) {
    view.fail('this page needs the join link of a running job (…/worker#join=…): ask its owner for one (dptrain coordinator --join-link, or the dashboard)');
    return;
  }
  const backend = await initBrowserBackend('/worker/wasm/');
  view.update({ backend });
  const name = `browser-${crypto.randomUUID().slice(0, 8)}`;
  const coordinatorUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  const log = (record: LogRecord): void => {
    if (record.event === 'worker-registered') view.registered(Number(record.workerId), Number(record.microBatchSize));
    if (record.event === 'reconnecting') view.retrying(Number(record.attempt), RECONNECT.maxAttempts);
    if (record.level === 'warn' || record.level === 'error') console.warn('dptrain', record);
  };
  const common = { role: 'worker' as const, jobId: claims.job, joinToken: token, name, log };
  const worker = new Worker({
    // Only control messages go to the coordinator (its frame bound is at least the default); leases come with their samples.
    connectCoordinator: () =>
      connectBrowser(coordinatorUrl, { ...common, peerRole: 'coordinator', peerMaxPayload: DEFAULT_MAX_PAYLOAD, maxPayload: SAMPLES_MAX_PAYLOAD }),
    connectShard: (url, paramCount) =>
      connectBrowser(url, { ...common, peerRole: 'ps', validateOptions: { paramCount }, peerMaxPayload: maxPayloadFor(paramCount) }),
    samplesFromCoordinator: true,
    name,
    backend: `${backend} (browser)`,
    reconnect: RECONNECT,
    log,
  });
  view.onStop(() => worker.stop(STOPPED_FROM_PAGE));
  const ticker = setInterval(() => view.progress(worker.progress()), 500);
  try {
    const report = await worker.run();
    view.progress(worker.progress());
    view.finish(report.shutdownReason);
  } finally {
    clearInterval(ticker);
  }
}

main().catch((error: unknown) => view.fail(error instanceof Error ? error.message : String(error)));
