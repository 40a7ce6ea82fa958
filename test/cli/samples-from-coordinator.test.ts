import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@dptrain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, LiveRoles, ready } from './live-roles.js';
import { runCli } from './run-cli.js';
import { smallJob } from '../small-job.js';

// The roles started by hand: a coordinator, a shard, a worker without the data set
// (--samples-from-coordinator: each lease brings its samples) and then a worker with it, which
// shares the steps left when it has started in time. The run ends with the parameters of dptrain
// train, and the first worker never loads a data set.

const JOB = smallJob(['--steps', '40', '--optimizer', 'adam'], 16);
const ENV = {
  ...process.env,
  DPTRAIN_TOKEN: 'samples-from-coordinator-0001',
  DPTRAIN_JOB: 'samples-e2e',
  DPTRAIN_LOG_LEVEL: 'info',
  DPTRAIN_LOG_FORMAT: 'json',
};
const out = mkdtempSync(join(tmpdir(), 'samples-e2e-'));
const roles = new LiveRoles(ENV);
afterAll(() => roles.killAll());

/** Everything the process writes on stderr, once it has exited. */
function stderrOf(child: ChildProcess): Promise<string> {
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((resolve) => child.once('close', () => resolve(text)));
}

/** Resolves once the coordinator at `url` lists a worker named `name`. */
async function joined(url: string, name: string): Promise<void> {
  for (;;) {
    const c = await connect(url, { role: 'client', jobId: ENV.DPTRAIN_JOB, token: ENV.DPTRAIN_TOKEN, log: () => undefined });
    const report = await c.request({ type: 'status' });
    c.close();
    const workers = (report.detail as { workers: { name: string }[] }).workers;
    if (workers.some((w) => w.name === name)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dptrain worker --samples-from-coordinator', () => {
  it('ends with the bits of dptrain train (a worker with the data set joining once it works), loading no data set', async () => {
    const reference = runCli(['train', ...JOB, '--out', join(out, 'reference')], ENV);
    const [port, psPort] = [await freePort(), await freePort()];
    const url = `ws://127.0.0.1:${port}/`;
    const coordinator = roles.start(
      ['coordinator', ...JOB, '--workers', '2', '--out', join(out, 'cluster'), '--host', '127.0.0.1', '--port', String(port)],
      'pipe',
    );
    const coordinatorLog = stderrOf(coordinator);
    const ended = new Promise<number | null>((resolve) => coordinator.once('exit', resolve));
    await ready(url, ENV);
    roles.start(['ps', '--coordinator', url, '--host', '127.0.0.1', '--port', String(psPort), '--checkpoint-dir', join(out, 'checkpoints')]);
    // The worker without the data set joins first, so that it is leased the first step for sure.
    const withoutData = roles.start(['worker', '--coordinator', url, '--backend', 'cpu', '--name', 'no-data', '--samples-from-coordinator'], 'pipe');
    const withoutDataLog = stderrOf(withoutData);
    await joined(url, 'no-data');
    roles.start(['worker', '--coordinator', url, '--backend', 'cpu', '--name', 'with-data']);

    expect(await ended).toBe(0);
    expect((await reference).code).toBe(0);
    expect(readFileSync(join(out, 'cluster', 'params.safetensors')).equals(readFileSync(join(out, 'reference', 'params.safetensors')))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'cluster', 'summary.json'), 'utf8'));
    const done = Object.fromEntries(summary.workers.map((w: { name: string; microBatches: number }) => [w.name, w.microBatches]));
    expect(done['no-data']).toBeGreaterThan(0);
    // 40 steps of 4 micro-batches, each counted once.
    expect((done['no-data'] ?? 0) + (done['with-data'] ?? 0)).toBe(160);

    const noDataLog = await withoutDataLog;
    expect(noDataLog).toMatch(/"event":"worker-registered".*"samplesFromCoordinator":true/);
    expect(noDataLog).not.toContain('lease-refused');
    // The line a process that loads the data set logs (the coordinator does), never in this worker's log.
    expect(await coordinatorLog).toContain('data set loaded');
    expect(noDataLog).not.toContain('data set loaded');
  });
});
