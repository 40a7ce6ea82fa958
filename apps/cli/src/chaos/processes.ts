import { setTimeout as delay } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Netns } from '@dptrain/fault-proxy';
import type { Context } from './types.js';
import { BIN } from '../app-root.js';

/** The chaos job's --worker-timeout-ms: the coordinator marks a silent worker dead after it (sweeping every quarter of it). */
export const WORKER_TIMEOUT_MS = 6_000;
export const PAST_TIMEOUT_MS = WORKER_TIMEOUT_MS + 3_000;
/**
 * Workers' environment for scenarios whose fault must strike mid-run and wait out the worker
 * timeout: each micro-batch takes 5× its compute (the bits are unchanged). Unpaced, the small job's
 * 400 steps take about a second on this machine, and a fault timed on its fifth step could find it
 * finished.
 */
export const PACED: NodeJS.ProcessEnv = { DPTRAIN_FAULT: 'slow=5' };

export interface Proc {
  readonly child: ChildProcess;
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the port of the process's first 'listening' line. */
  readonly listening: Promise<number>;
}

export function startProc(args: readonly string[], env: NodeJS.ProcessEnv, netns?: Netns): Proc {
  const child = netns
    ? netns.spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = parseJson(line);
      if (event?.event === 'listening') resolve(event.port as number);
    });
    void exit.then(({ code }) =>
      reject(
        new Error(
          `dptrain ${args[0]} exited (code ${code}) before listening: ${stderr
            .filter((l) => !l.startsWith('    at '))
            .slice(-6)
            .join(' ')}`,
        ),
      ),
    );
  });
  listening.catch(() => undefined);
  return { child, stderr, exit, listening };
}

export function runCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const proc = startProc(args, env);
  return proc.exit.then(({ code }) => ({ code, stderr: proc.stderr.join('\n') }));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function stepsDone(dir: string): Promise<number> {
  return readFile(join(dir, 'metrics.jsonl'), 'utf8').then(
    (text) => text.split('\n').filter((l) => l.includes('"kind":"step"')).length,
    () => 0,
  );
}

/** Polls (50 ms) until `ready` holds, failing with `what` after `timeoutMs`. */
/**
 * Polls `ready` every 50 ms until it says true. A probe that throws (a status request refused while
 * the machine is loaded, a file not yet written) counts as not ready; the timeout names its error.
 */
export async function waitFor(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    try {
      if (await ready()) return;
      failure = undefined;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${failure === undefined ? '' : `; the last probe failed: ${String(failure)}`}`);
    }
    await delay(50);
  }
}

export async function bitIdentical(ctx: Context, dir: string): Promise<boolean> {
  const path = join(dir, 'params.safetensors');
  return existsSync(path) && (await readFile(path)).equals(await ctx.reference());
}

/** The parts of a cluster run's summary.json the scenarios check. */
export interface ClusterSummary {
  readonly faults?: readonly { readonly kind: string }[];
  readonly backupLeases?: number;
  readonly workers?: readonly { readonly workerId: number; readonly name: string; readonly backupLeases: number; readonly leasesBackedUp: number }[];
}

export async function readSummary(dir: string): Promise<ClusterSummary> {
  return JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as ClusterSummary;
}

export async function summaryFaults(dir: string): Promise<string[]> {
  return ((await readSummary(dir)).faults ?? []).map((f) => f.kind);
}

/** The shard counters from its 'stopping' log line (accepted, duplicate, stale, rejected, pulls). */
export function shardCounters(ps: Proc): Record<string, number> {
  for (const line of ps.stderr) {
    const record = parseJson(line);
    if (record && typeof record.duplicate === 'number' && typeof record.accepted === 'number') return record as Record<string, number>;
  }
  return {};
}
