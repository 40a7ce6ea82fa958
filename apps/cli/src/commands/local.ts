import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checkClusterConfig } from '@dptrain/cluster';
import { ConfigError, type JobConfig } from '@dptrain/config';
import type { Logger } from '../logger.js';
import { Progress } from '../progress.js';

const BIN = fileURLToPath(new URL('../../bin/dptrain.js', import.meta.url));

interface Child {
  readonly role: 'coordinator' | 'ps' | 'worker';
  readonly name: string;
  readonly process: ChildProcess;
  port?: number;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Thrown when the cluster cannot finish; the message names the process and how it ended. */
export class LocalClusterError extends Error {
  readonly code = 'E_LOCAL_CLUSTER';
}

/**
 * `dptrain local`: the whole cluster as child processes on 127.0.0.1 — one coordinator, psShards
 * parameter servers, `workers` workers — each binding port 0 and announcing its port on stdout.
 * Writes `cluster.json` into the run folder once they are up, shows the coordinator's progress,
 * and exits 0 when training completes. A dying worker is a fault the cluster survives (its work is
 * re-leased); a dying coordinator or shard, or every worker gone, stops the run with its name and
 * exit status. SIGINT/SIGTERM stop every child.
 */
export async function runLocal(config: JobConfig, jobArgs: readonly string[], logger: Logger): Promise<void> {
  try {
    checkClusterConfig(config);
  } catch (error) {
    throw new ConfigError('E_CONFIG_VALUE', (error as Error).message);
  }
  const env = {
    ...process.env,
    DPTRAIN_TOKEN: process.env.DPTRAIN_TOKEN ?? randomBytes(24).toString('hex'),
    DPTRAIN_JOB: process.env.DPTRAIN_JOB ?? `local-${process.pid}`,
    DPTRAIN_LOG_LEVEL: process.env.DPTRAIN_LOG_LEVEL ?? 'warn',
  };
  const children: Child[] = [];
  let finished = false;
  let failure: ((error: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => (failure = reject));
  failed.catch(() => undefined);

  const start = (role: Child['role'], name: string, args: string[]): Child => {
    const proc = spawn(process.execPath, [BIN, role, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const child: Child = { role, name, process: proc };
    children.push(child);
    proc.on('exit', (code, signal) => {
      child.exited = { code, signal };
      if (finished) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (role === 'worker' && children.some((c) => c.role === 'worker' && !c.exited)) {
        logger.warn({ name, pid: proc.pid, code, signal }, `${name} ${how}; its micro-batches are re-leased to the other workers`);
        return;
      }
      if (role === 'coordinator' && code === 0) return;
      failure?.(new LocalClusterError(`${name} (pid ${proc.pid}) ${how}${role === 'worker' ? ' and no worker is left' : ''}; the run cannot finish`));
    });
    return child;
  };
  const listening = (child: Child): Promise<number> =>
    Promise.race([
      failed,
      new Promise<number>((resolve) => {
        createInterface({ input: child.process.stdout! }).on('line', (line) => {
          const event = parseLine(line);
          if (event?.event === 'listening') resolve(event.port as number);
          if (event?.event === 'step') onStep(event);
          // After the coordinator's 'done' the others exit on its shutdown: not a failure.
          if (event?.event === 'done') finished = true;
        });
      }),
    ]);

  const progress = new Progress('local');
  const onStep = (e: Record<string, unknown>): void =>
    progress.update({ step: e.step as number, totalSteps: totalSteps, epoch: e.epoch as number, loss: e.loss as number, samplesPerSecond: e.samplesPerSecond as number });
  let totalSteps = 0;

  const stopAll = (signal: NodeJS.Signals): void => {
    for (const c of children) if (!c.exited) c.process.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn(`${signal}: stopping every process of the cluster`);
    finished = true;
    stopAll('SIGTERM');
    process.exitCode = 130;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const coordinator = start('coordinator', 'coordinator', [...jobArgs, '--host', '127.0.0.1', '--port', '0']);
    coordinator.port = await listening(coordinator);
    const url = `ws://127.0.0.1:${coordinator.port}/`;
    const shards = Array.from({ length: config.psShards }, (_, s) => start('ps', `ps-${s}`, ['--coordinator', url, '--shard', String(s), '--host', '127.0.0.1', '--port', '0', '--name', `ps-${s}`]));
    await Promise.all(shards.map(async (c) => (c.port = await listening(c))));
    const workers = Array.from({ length: config.workers }, (_, k) => start('worker', `worker-${k}`, ['--coordinator', url, '--backend', config.backend, '--name', `worker-${k}`]));
    await mkdir(config.out, { recursive: true });
    await writeFile(
      join(config.out, 'cluster.json'),
      `${JSON.stringify({ coordinator: url, processes: children.map((c) => ({ role: c.role, name: c.name, pid: c.process.pid, ports: c.port === undefined ? [] : [c.port] })) }, null, 2)}\n`,
    );
    logger.info({ coordinator: url, shards: shards.length, workers: workers.length }, `cluster up: coordinator ${url}, ${shards.length} shard(s), ${workers.length} worker(s)`);
    totalSteps = await fetchTotalSteps(url.replace('ws://', 'http://'));
    const coordinatorExit = new Promise<void>((resolve) => coordinator.process.once('exit', () => resolve()));
    await Promise.race([coordinatorExit, failed]);
    progress.stop();
    if (coordinator.exited?.code !== 0) {
      throw new LocalClusterError(`coordinator ${coordinator.exited?.signal ? `was killed by ${coordinator.exited.signal}` : `exited with code ${coordinator.exited?.code}`}; see its log above`);
    }
    finished = true;
    await waitForExit(children, 10_000);
    logger.info({ out: config.out }, `training finished; run folder ${config.out}`);
  } catch (error) {
    finished = true;
    progress.stop();
    stopAll('SIGTERM');
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function fetchTotalSteps(base: string): Promise<number> {
  try {
    const response = await fetch(`${base}status`);
    const status = (await response.json()) as { totalSteps?: number };
    return status.totalSteps ?? 0;
  } catch {
    return 0;
  }
}

/** Waits for every child to exit after the coordinator's shutdown; SIGKILLs the ones that do not. */
async function waitForExit(children: readonly Child[], timeoutMs: number): Promise<void> {
  const pending = children.filter((c) => !c.exited).map((c) => new Promise<void>((resolve) => c.process.once('exit', () => resolve())));
  const timer = setTimeout(() => {
    for (const c of children) if (!c.exited) c.process.kill('SIGKILL');
  }, timeoutMs);
  await Promise.all(pending);
  clearTimeout(timer);
}
