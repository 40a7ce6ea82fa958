import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pinnedCores } from '@dptrain/job';
import { smallJob } from '../small-job.js';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dptrain.js', import.meta.url));
const ENV = { ...process.env, DPTRAIN_LOG_FORMAT: 'json' };

const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
const unavailable = taskset.error || taskset.status !== 0 ? `taskset cannot be run here (${taskset.error?.message ?? `exit ${taskset.status}`})` : undefined;
if (unavailable) console.warn(`test/cli/pin-cpus.test.ts skipped: ${unavailable}`);

/** The CPU list of each thread of process `pid`, as the kernel holds it. */
function threadCpuLists(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]!);
}

/** The `cpus` field of the log line `dptrain local` writes when it pins, once written. */
async function pinnedLine(stderr: () => string): Promise<Record<string, number>> {
  for (;;) {
    const line = stderr()
      .split('\n')
      .find((l) => l.includes('"msg":"pinned: '));
    if (line) return (JSON.parse(line) as { cpus: Record<string, number> }).cpus;
    await delay(100);
  }
}

/** cluster.json's processes, once it lists `count` of them. */
async function processes(out: string, count: number): Promise<{ name: string; pid: number }[]> {
  const file = join(out, 'cluster.json');
  for (;;) {
    if (existsSync(file)) {
      const listed = (JSON.parse(readFileSync(file, 'utf8')) as { processes: { name: string; pid: number }[] }).processes;
      if (listed.length === count) return listed;
    }
    await delay(100);
  }
}

describe.skipIf(unavailable !== undefined)('dptrain local --pin-cpus', () => {
  it('runs every thread of each process on the one CPU it logged, in the order pinnedCores gives', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pin-cpus-')), 'run');
    const args = ['local', ...smallJob(['--steps', '20000', '--epochs', '400']), '--workers', '2', '--ps-shards', '1', '--pin-cpus', '--out', out];
    const child = spawn(process.execPath, [BIN, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const cpus = await pinnedLine(() => stderr);
      const listed = await processes(out, 4);
      expect(listed.map((p) => p.name).sort()).toEqual(Object.keys(cpus).sort());
      for (const p of listed) expect({ name: p.name, threads: [...new Set(threadCpuLists(p.pid))] }).toEqual({ name: p.name, threads: [String(cpus[p.name])] });
      // Processes pinnedCores puts on one core share a CPU, and those on different cores do not.
      const plan = pinnedCores({ workers: 2, psShards: 1, colocate: false }, new Set(Object.values(cpus)).size);
      for (const [a, cpuA] of Object.entries(cpus)) for (const [b, cpuB] of Object.entries(cpus)) expect(cpuA === cpuB).toBe(plan.get(a) === plan.get(b));
    } finally {
      child.kill('SIGINT');
      await exit;
    }
  });
});
