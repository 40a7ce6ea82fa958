import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { chromiumUnavailable, launchChromium, type HeadlessChromium } from './headless-chromium.js';
import { runCli } from './run-cli.js';

// A browser tab joins a running `dptrain local --workers 1` job through the join link the
// coordinator prints, computes leased micro-batches beside the Node worker on the wasm backend,
// and the job's parameters keep the bits of `dptrain train`. The Node worker is slowed (the
// chaos suite's slow fault: each micro-batch takes 40 times its compute) so that the tab, however
// late it starts on a loaded machine, joins while most of the job is still to do.

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
/** Screenshots for people to look at (the README's comes from here); git ignores the folder. */
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));
const TOKEN = 'browser-worker-test-token-7d2e1a';
/** Three epochs of the generated set (186 steps): some 20 s of the slowed Node worker alone. */
const JOB = smallJob(['--epochs', '3', '--backend', 'wasm', '--optimizer', 'adam']);
/** Only a bound for a page that never gets there, so the failure says what it shows instead. */
const PAGE_WAIT_MS = 180_000;

const unavailable = await chromiumUnavailable();
if (unavailable) console.warn(`test/cli/browser-worker.test.ts skipped: ${unavailable}`);

interface LocalRun {
  /** The join link as `dptrain local --join-link` printed it. */
  readonly joinUrl: Promise<string>;
  readonly exit: Promise<number | null>;
  readonly stderr: string[];
}

function startLocal(out: string): LocalRun {
  const env = { ...process.env, DPTRAIN_TOKEN: TOKEN, DPTRAIN_JOB: 'browser-worker-test', DPTRAIN_LOG_FORMAT: 'json', DPTRAIN_FAULT: 'slow=40,only=worker-0' };
  const child = spawn(process.execPath, [BIN, 'local', ...JOB, '--workers', '1', '--join-link', '--out', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const joinUrl = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      const printed = /join as a worker from a browser tab: (http:\/\/\S+#join=[A-Za-z0-9_.-]+)/.exec(line);
      if (printed) resolve(printed[1]!);
    });
    void exit.then((code) => reject(new Error(`dptrain local exited (${code}) before it printed the join link:\n${stderr.slice(-20).join('\n')}`)));
  });
  return { joinUrl, exit, stderr };
}

interface TabState {
  state: string;
  leases: number;
  microBatches: number;
  message?: string;
}

const tabState = (page: Page): Promise<TabState> => page.evaluate(() => (globalThis as unknown as { dptrainWorker: TabState }).dptrainWorker);

/** A state of the tab to wait for: at least so many micro-batches done, or this state. */
type Goal = { readonly microBatches: number } | { readonly state: string };

/**
 * Waits for the tab to reach `goal`, or to fail, whichever comes first (the page's own state, read
 * as a function: its Content-Security-Policy forbids evaluating strings); on a failure or a
 * timeout, says what the page showed instead.
 */
async function untilTab(page: Page, what: string, goal: Goal, expectFailure = false): Promise<TabState> {
  try {
    await page.waitForFunction(
      (g: Goal) => {
        const tab = (globalThis as unknown as { dptrainWorker: TabState }).dptrainWorker;
        return tab.state === 'failed' || ('state' in g ? tab.state === g.state : tab.microBatches >= g.microBatches);
      },
      goal,
      { timeout: PAGE_WAIT_MS, polling: 100 },
    );
  } catch (error) {
    const shown = await page
      .locator('body')
      .innerText()
      .catch(() => '(the page is gone)');
    throw new Error(`the tab never showed ${what}: ${(error as Error).message.split('\n')[0]}\nthe page showed:\n${shown}`, { cause: error });
  }
  const tab = await tabState(page);
  if ((tab.state === 'failed') !== expectFailure) throw new Error(`the tab ${expectFailure ? 'did not fail' : 'failed'} before ${what}: ${tab.message ?? ''}`);
  return tab;
}

async function referenceParams(): Promise<Buffer> {
  const out = mkdtempSync(join(tmpdir(), 'browser-worker-train-'));
  const result = await runCli(['train', ...JOB, '--out', out]);
  expect(result.code, result.stderr.slice(-1000)).toBe(0);
  return readFileSync(join(out, 'params.safetensors'));
}

describe.skipIf(unavailable)('a browser tab as a worker', () => {
  let browser: HeadlessChromium;
  let reference: Promise<Buffer>;
  beforeAll(async () => {
    browser = await launchChromium();
    reference = referenceParams();
  });
  afterAll(async () => browser?.close());

  it('joins by the link, leases micro-batches beside the Node worker, and the parameters keep the bits of dptrain train', async () => {
    const out = mkdtempSync(join(tmpdir(), 'browser-worker-'));
    const run = startLocal(out);
    const page = await browser.context.newPage();
    await page.goto(await run.joinUrl);
    // The join token leaves the address bar once the page has read it.
    expect(page.url()).not.toContain('join=');
    await untilTab(page, 'micro-batches computed', { microBatches: 8 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-worker.png'), clip: { x: 280, y: 0, width: 720, height: 330 } });
    expect(await run.exit, run.stderr.slice(-20).join('\n')).toBe(0);
    const tab = await untilTab(page, 'the end of the job', { state: 'done' });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      steps: number;
      workers: { name: string; microBatches: number; reportedAgain: number }[];
    };
    const browserShare = summary.workers.filter((w) => w.name.startsWith('browser-'));
    // The coordinator counts the tab's micro-batches as the tab does, and every micro-batch once.
    expect(browserShare.map((w) => w.microBatches)).toEqual([tab.microBatches]);
    expect(summary.workers.reduce((n, w) => n + w.microBatches - w.reportedAgain, 0)).toBe(summary.steps * 4);
    expect(readFileSync(join(out, 'params.safetensors')).equals(await reference)).toBe(true);
  });

  it('a tab stopped with its button, and another closed mid-run, are worker losses: their leases go to the others and the bits are kept', async () => {
    const out = mkdtempSync(join(tmpdir(), 'browser-worker-closed-'));
    const run = startLocal(out);
    const joinUrl = await run.joinUrl;
    const [stopped, closed] = await Promise.all([browser.context.newPage(), browser.context.newPage()]);
    await Promise.all([stopped.goto(joinUrl), closed.goto(joinUrl)]);
    await Promise.all([untilTab(stopped, 'micro-batches computed', { microBatches: 8 }), untilTab(closed, 'micro-batches computed', { microBatches: 8 })]);
    await stopped.click('#stop');
    const stoppedState = await untilTab(stopped, 'its stop', { state: 'stopped' });
    await closed.close();
    expect(await run.exit, run.stderr.slice(-20).join('\n')).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      steps: number;
      workers: { name: string; microBatches: number; reportedAgain: number }[];
      faults: { kind: string; name?: string }[];
    };
    const tabs = summary.workers.filter((w) => w.name.startsWith('browser-'));
    expect(tabs.map((w) => w.microBatches >= 8)).toEqual([true, true]);
    // The stopped tab's count is the coordinator's: what it reported before it stopped.
    expect(tabs.map((w) => w.microBatches)).toContain(stoppedState.microBatches);
    expect(summary.workers.reduce((n, w) => n + w.microBatches - w.reportedAgain, 0)).toBe(summary.steps * 4);
    expect(summary.faults.filter((f) => f.kind === 'worker-disconnected')).toHaveLength(2);
    expect(readFileSync(join(out, 'params.safetensors')).equals(await reference)).toBe(true);
    await stopped.close();
  });

  it('a page opened with a wrong join token says so and never joins', async () => {
    const out = mkdtempSync(join(tmpdir(), 'browser-worker-refused-'));
    const run = startLocal(out);
    const good = new URL(await run.joinUrl);
    const page = await browser.context.newPage();
    // A token signed with another secret: the coordinator refuses the upgrade (401) before any WebSocket opens.
    const [claims] = good.hash.slice('#join='.length).split('.');
    await page.goto(`${good.origin}/worker#join=${claims}.${'A'.repeat(43)}`);
    const tab = await untilTab(page, 'the refusal', { state: 'failed' }, true);
    expect(tab.message).toMatch(/refused the connection or cannot be reached .*join link may have expired/);
    await page.close();
    expect(await run.exit).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { workers: { name: string }[] };
    expect(summary.workers.map((w) => w.name)).toEqual(['worker-0']);
  });
});
