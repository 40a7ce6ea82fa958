import { setTimeout as delay } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bitIdentical, shardCounters, startProc, stepsDone, summaryFaults, waitFor } from './processes.js';
import type { Proc } from './processes.js';
import type { Context, Outcome } from './types.js';

interface LocalRun {
  readonly proc: Proc;
  /** cluster.json once written. */
  cluster(): Promise<{ coordinator: string; processes: { role: string; name: string; pid: number; ports: number[] }[] }>;
}

function startLocal(ctx: Context, dir: string): LocalRun {
  const proc = startProc(['local', ...ctx.job, '--workers', '2', '--out', dir], ctx.env);
  return {
    proc,
    cluster: async () => {
      let parsed: Awaited<ReturnType<LocalRun['cluster']>> | undefined;
      // Read until whole: the file may be caught half-written.
      await waitFor('cluster.json', async () => {
        parsed = await readFile(join(dir, 'cluster.json'), 'utf8')
          .then((t) => JSON.parse(t))
          .catch(() => undefined);
        return parsed !== undefined;
      });
      return parsed!;
    },
  };
}

async function pidOf(run: LocalRun, name: string): Promise<number> {
  const entry = (await run.cluster()).processes.find((p) => p.name === name);
  if (!entry) throw new Error(`cluster.json lists no process named ${name}`);
  return entry.pid;
}

export async function workerSigkill(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir);
  const pid = await pidOf(run, 'worker-0');
  await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
  process.kill(pid, 'SIGKILL');
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  return { ok: code === 0 && same && faults.includes('worker-disconnected'), detail: `local exit ${code}; faults ${faults.join(',') || 'none'}; bit-identical ${same}` };
}

export async function workerSigstop(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir);
  const pid = await pidOf(run, 'worker-0');
  const status = (await run.cluster()).coordinator.replace('ws://', 'http://') + 'status';
  await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
  process.kill(pid, 'SIGSTOP');
  try {
    await waitFor('the coordinator to time worker-0 out', async () => {
      const body = (await (await fetch(status)).json()) as { faults: { kind: string }[] };
      return body.faults.some((f) => f.kind === 'worker-timeout');
    }, 60_000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  const counters = shardCounters(run.proc);
  return {
    ok: code === 0 && same && faults.includes('worker-timeout') && (counters.rejected ?? 0) === 0,
    detail: `local exit ${code}; faults ${faults.join(',')}; shard duplicate ${counters.duplicate ?? '?'} rejected ${counters.rejected ?? '?'}; bit-identical ${same}`,
  };
}

export async function allWorkersKilled(ctx: Context, dir: string): Promise<Outcome> {
  const run = startLocal(ctx, dir);
  const cluster = await run.cluster();
  await waitFor('2 steps', async () => (await stepsDone(dir)) >= 2);
  for (const p of cluster.processes) if (p.role === 'worker') process.kill(p.pid, 'SIGKILL');
  const killedAt = performance.now();
  const ended = await Promise.race([run.proc.exit, delay(15_000).then(() => undefined)]);
  const waited = (performance.now() - killedAt) / 1000;
  if (!ended) {
    run.proc.child.kill('SIGTERM');
    return { ok: false, detail: 'dptrain local still running 15 s after every worker died' };
  }
  const reason = run.proc.stderr.find((l) => l.includes('no worker is left')) ?? '';
  return { ok: ended.code !== 0 && reason !== '', detail: `exit ${ended.code} after ${waited.toFixed(1)} s: ${reason.slice(0, 160)}` };
}
