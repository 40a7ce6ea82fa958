import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect } from '@dptrain/protocol';

// dptrain roles started by a test as separate processes on loopback, the way a user starts them
// by hand: ports chosen free beforehand, readiness judged by a client connecting.

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));

/** A TCP port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Every process a test started, so that its teardown can kill the ones left. */
export class LiveRoles {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** `dptrain ARGS…` with the test's environment, output discarded (or stderr piped, for its log). */
  start(args: readonly string[], stderr: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const child = spawn(process.execPath, [BIN, ...args], { env: this.env, stdio: ['ignore', 'ignore', stderr] });
    this.children.push(child);
    return child;
  }

  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** The connect options of a client of the job in `env` (DPTRAIN_JOB, DPTRAIN_TOKEN). */
function clientOf(env: NodeJS.ProcessEnv, extra: { ca?: Buffer; maxPayload?: number } = {}) {
  return { role: 'client' as const, jobId: env.DPTRAIN_JOB!, token: env.DPTRAIN_TOKEN!, log: () => undefined, ...extra };
}

/** Resolves once a client of the job connects to `url` (the process listens). */
export async function ready(url: string, env: NodeJS.ProcessEnv, ca?: Buffer): Promise<void> {
  for (;;) {
    const c = await connect(url, clientOf(env, ca ? { ca } : {})).catch(() => undefined);
    if (c) return c.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The current parameters of the shard at `url`, as bytes. */
export async function shardParams(url: string, env: NodeJS.ProcessEnv, ca?: Buffer): Promise<Buffer> {
  const c = await connect(url, clientOf(env, { maxPayload: 64 << 20, ...(ca ? { ca } : {}) }));
  const { values } = await c.request({ type: 'pull', step: 0, raw: true });
  c.close();
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}
