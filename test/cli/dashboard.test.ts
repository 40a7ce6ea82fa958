import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { smallJob } from '../small-job.js';
import { chromiumUnavailable, launchChromium, type HeadlessChromium } from './headless-chromium.js';
import { LiveRoles } from './live-roles.js';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
/** Screenshots for people to look at; git ignores the folder. */
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));
const TOKEN = 'dashboard-test-token-4f1c9e';
const ENV = { ...process.env, DPTRAIN_TOKEN: TOKEN, DPTRAIN_JOB: 'dashboard-test', DPTRAIN_LOG_FORMAT: 'json' };
/** More steps than the checks need on any machine: the test stops the run itself (Ctrl-C) when it is done. */
const STEPS = 20_000;
/** Only a bound for a page that never gets there, so the failure says what it shows instead. */
const PAGE_WAIT_MS = 180_000;

const unavailable = await chromiumUnavailable();
if (unavailable) console.warn(`test/cli/dashboard.test.ts skipped: ${unavailable}`);

interface LocalRun {
  readonly child: ChildProcess;
  /** The dashboard's address as `dptrain local` printed it (token in the fragment). */
  readonly url: Promise<string>;
  readonly exit: Promise<number | null>;
  readonly stderr: string[];
}

/** `dptrain local` as a user starts it, its log lines read as they come. */
function startLocal(out: string): LocalRun {
  const args = ['local', ...smallJob(['--epochs', '400', '--steps', String(STEPS)]), '--workers', '2', '--out', out];
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      const printed = /dashboard (https?:\/\/\S+?#token=[^\s"<]+)/.exec(line);
      if (printed) resolve(printed[1]!);
    });
    void exit.then((code) => reject(new Error(`dptrain local exited (${code}) before it printed the dashboard's address:\n${stderr.slice(-20).join('\n')}`)));
  });
  return { child, url, exit, stderr };
}

/** Waits for the page to reach a state (its DOM polled); on a timeout, says what it showed instead. */
async function until(page: Page, what: string, state: (arg: number) => boolean, arg = 0): Promise<void> {
  try {
    await page.waitForFunction(state, arg, { timeout: PAGE_WAIT_MS, polling: 100 });
  } catch (error) {
    const shown = await page
      .locator('body')
      .innerText()
      .catch(() => '(the page is gone)');
    throw new Error(`the dashboard never showed ${what}; it shows:\n${shown.slice(0, 2000)}`, { cause: error });
  }
}

/** The pid of worker `workerId` in the run folder's cluster.json, once `dptrain local` wrote it. */
async function workerPid(out: string, workerId: number): Promise<number> {
  const file = join(out, 'cluster.json');
  for (;;) {
    if (existsSync(file)) {
      const cluster = JSON.parse(readFileSync(file, 'utf8')) as { processes: { role: string; workerId?: number; pid: number }[] };
      const worker = cluster.processes.find((p) => p.role === 'worker' && p.workerId === workerId);
      if (worker) return worker.pid;
    }
    await delay(100);
  }
}

/** What the checks that run inside the page (page.waitForFunction) use of its DOM: this file is not compiled against the DOM. */
interface PageNode {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
};

// Standalone, as the page runs them.
const stepShown = (): number => Number(document.querySelector('#step')?.dataset.step ?? 0);
const stepPast = (after: number): boolean => Number(document.querySelector('#step')?.dataset.step ?? 0) > after;

describe.skipIf(unavailable !== undefined)('the dashboard, in headless Chromium during dptrain local', () => {
  let browser: HeadlessChromium | undefined;
  let run: LocalRun | undefined;
  const roles = new LiveRoles(ENV);

  afterAll(async () => {
    roles.killAll();
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await run.exit;
    }
    await browser?.close();
  });

  it('shows the steps, the loss curve and two workers; a killed worker as lost, then its replacement at work', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dashboard-')), 'run');
    run = startLocal(out);
    const url = await run.url;
    const base = url.slice(0, url.indexOf('#'));
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    // The stream is the job's: no token, or another one, is refused.
    expect((await fetch(`${base}events`)).status).toBe(401);
    expect((await fetch(`${base}events`, { headers: { authorization: 'Bearer another-jobs-token-0000' } })).status).toBe(401);

    browser = await launchChromium();
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(url);
    const tokenNowhere = async (): Promise<void> => {
      expect(page.url()).not.toContain(TOKEN);
      expect(await page.content()).not.toContain(TOKEN);
    };
    await tokenNowhere();

    // Training shows: the step moves on, the loss curve gains points, both workers take leases.
    await until(page, 'a step', stepPast, 0);
    const step = await page.evaluate(stepShown);
    const points = Number(await page.locator('#loss-chart').getAttribute('data-points'));
    await until(page, `a step past ${step + 10}`, stepPast, step + 10);
    await until(page, `more than ${points} loss points`, (n) => Number(document.querySelector('#loss-chart')?.getAttribute('data-points')) > n, points);
    await until(
      page,
      'two workers at work',
      () =>
        [...document.querySelectorAll('#workers-body tr')].filter((r) => ['idle', 'busy'].includes(r.dataset.state!) && Number(r.dataset.leases) > 0).length ===
        2,
    );
    expect(await page.locator('#workers-body tr').count()).toBe(2);
    // "join as a worker": a link with a join token of its own, never the job's token.
    await until(page, 'the join link', () => document.querySelector('#join')?.getAttribute('hidden') === null);
    expect(await page.locator('#join').getAttribute('href')).toMatch(new RegExp(`^${base}worker#join=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    // Each worker's last heartbeat, as the coordinator heard it.
    expect(await page.locator('#workers-body tr td:nth-child(3)').allTextContents()).toEqual([
      expect.stringMatching(/ s ago$/),
      expect.stringMatching(/ s ago$/),
    ]);
    await tokenNowhere();

    // The horizontal axis switches to the time since the start.
    await page.click('#x-time');
    await until(page, 'the loss against time', () =>
      [...document.querySelectorAll('#loss-chart text.tick')].some((t) => /^(\d+s|\d+:\d\d)$/.test(t.textContent ?? '')),
    );
    await page.click('#x-step');
    // And the loss to a log scale: its tick labels go up by one factor.
    await page.click('#y-log');
    await until(page, 'the loss on a log scale', () => {
      const v = [...document.querySelectorAll('#loss-chart g.tick text')].map((t) => Number(t.textContent));
      return v.length >= 3 && v.slice(2).every((x, i) => Math.abs(x / v[i + 1]! / (v[i + 1]! / v[i]!) - 1) < 0.01);
    });
    await page.click('#y-log');

    // worker-1 is killed: the page shows it lost and the fault, then a replacement working.
    process.kill(await workerPid(out, 1), 'SIGKILL');
    await until(page, 'worker-1 lost', () => document.querySelector('#workers-body tr[data-worker-id="1"]')?.querySelector('.state')?.textContent === 'lost');
    await until(page, 'the disconnection among the faults', () => document.querySelector('#faults-list li[data-kind="worker-disconnected"]') !== null);
    // Started as `dptrain local` starts a worker (asking for id 1): the coordinator gives the new process a new id.
    roles.start(['worker', '--coordinator', base.replace(/^http/, 'ws'), '--backend', 'cpu', '--name', 'worker-1', '--worker-id', '1']);
    await until(page, 'a replacement of worker-1 at work', () =>
      [...document.querySelectorAll('#workers-body tr[data-name="worker-1"]')].some(
        (r) => r.dataset.workerId !== '1' && ['idle', 'busy'].includes(r.dataset.state!) && Number(r.dataset.leases) > 0,
      ),
    );
    const later = await page.evaluate(stepShown);
    await until(page, `the steps going on past ${later + 10}`, stepPast, later + 10);
    expect(await page.locator('#workers-body tr[data-worker-id="1"]').getAttribute('data-state')).toBe('dead');
    await tokenNowhere();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-desktop.png'), fullPage: true });
    // A phone: the charts redraw for the width and nothing makes the page scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await until(
      page,
      'the charts drawn for a phone',
      () => Number(document.querySelector('#loss-chart')?.getAttribute('viewBox')?.split(' ')[2] ?? 1e9) <= 390,
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await tokenNowhere();

    // The token went to the server in a header only, never in a URL.
    expect(requested.some((u) => u.endsWith('/events'))).toBe(true);
    expect(requested.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(problems).toEqual([]);

    // Opened without the token, or with another job's, the page says what to open instead.
    const bare = await browser.context.newPage();
    await bare.goto(base);
    await until(bare, 'how to open the dashboard', () => /dptrain local/.test(document.querySelector('#notice')?.textContent ?? ''));
    const wrong = await browser.context.newPage();
    await wrong.goto(`${base}#token=another-jobs-token-0000`);
    await until(wrong, 'the refused token', () => /refused/.test(document.querySelector('#notice')?.textContent ?? ''));

    // Ctrl-C stops the run (the page has shown what it must).
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
  });
});
