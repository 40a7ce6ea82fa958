import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './build-context.js';
import { hostEnvironment, loadCompose, type Service } from './compose-model.js';
import { imageLayout } from './image-layout.js';

// The compose file's health checks run against a real coordinator and parameter server started
// with their services' environments (moved to loopback, a free port and a tiny generated job).

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
const project = loadCompose(join(REPO, 'docker-compose.yml'), {});
const service = (role: string): Service => project.services.find((s) => s.command[0] === role)!;
const image = imageLayout();
const started: ChildProcess[] = [];

/** Starts a role as its service would, with `overrides`; resolves with the port it announces. */
function start(role: string, overrides: Record<string, string>): Promise<number> {
  const s = service(role);
  const env = { PATH: process.env.PATH ?? '', DPTRAIN_TOKEN: 'health-test-token', ...hostEnvironment(s, REPO), ...overrides };
  const child = spawn(process.execPath, [BIN, ...s.command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event === 'listening') resolve(event.port!);
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before listening: ${stderr.slice(-1000)}`)));
  });
}

/** Runs a service's health check as Docker would, against `port` on loopback; resolves with its exit code. */
function check(role: string, port: number): Promise<number> {
  const [, , script, ...args] = service(role).healthcheck!;
  const env = { PATH: process.env.PATH ?? '', DPTRAIN_HOST: '127.0.0.1', DPTRAIN_PORT: String(port) };
  return new Promise((resolve) =>
    spawn(process.execPath, [image.hostPath(script!), ...args], { env, stdio: 'ignore' }).once('exit', (code) => resolve(code ?? 1)),
  );
}

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

afterAll(async () => {
  await Promise.all(
    started.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((resolve) => c.once('exit', resolve).kill('SIGTERM'))),
  );
});

describe('the health checks of docker-compose.yml', () => {
  it('pass on a live coordinator and parameter server and fail where the server is not the right one or not up', async () => {
    const loopback = { DPTRAIN_HOST: '127.0.0.1', DPTRAIN_PORT: '0', DPTRAIN_LOG_LEVEL: 'warn' };
    const coordinator = await start('coordinator', {
      ...loopback,
      DPTRAIN_DATASET: 'synthetic',
      DPTRAIN_HIDDEN: '8',
      DPTRAIN_BACKEND: 'cpu',
      DPTRAIN_OFFLINE: '1',
      DPTRAIN_OUT: mkdtempSync(join(tmpdir(), 'health-')),
    });
    // The service's checkpoint directory is on a named volume: here a fresh folder of its own.
    const ps = await start('ps', {
      ...loopback,
      DPTRAIN_COORDINATOR: `ws://127.0.0.1:${coordinator}/`,
      DPTRAIN_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'health-ck-')),
    });
    const nothing = await closedPort();
    const results = await Promise.all([
      check('coordinator', coordinator),
      check('ps', ps),
      check('coordinator', ps),
      check('ps', coordinator),
      check('coordinator', nothing),
      check('ps', nothing),
    ]);
    // The coordinator answers /healthz 200 (and / 404); a shard answers any plain GET 426 Upgrade Required.
    expect(results).toEqual([0, 0, 1, 1, 1, 1]);
  });
});
