import { setTimeout as delay } from 'node:timers/promises';
import { pidOf, startLocal } from './local-run.js';
import { bitIdentical, PACED, shardCounters, stepsDone, summaryFaults, waitFor } from './processes.js';
import { fetchStatus } from '../cluster/status-http.js';
import type { Context, Outcome } from './types.js';

/**
 * Waits for 5 steps with worker-0 registered: on a loaded machine the other worker can take every
 * lease before worker-0 has started, and a worker that never joined is no fault to recover from.
 */
async function workerZeroAtWork(ctx: Context, dir: string, coordinator: string): Promise<void> {
  await waitFor('worker-0 registered and 5 steps', async () => {
    const body = await fetchStatus<{ workers: { workerId: number; state: string }[] }>(coordinator, ctx.env.DPTRAIN_TOKEN!);
    return body.workers.some((w) => w.workerId === 0 && (w.state === 'idle' || w.state === 'busy')) && (await stepsDone(dir)) >= 5;
  });
}

export async function workerSigkill(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir, [], PACED);
  const pid = await pidOf(run, 'worker-0');
  await workerZeroAtWork(ctx, dir, (await run.cluster()).coordinator);
  process.kill(pid, 'SIGKILL');
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  return {
    ok: code === 0 && same && faults.includes('worker-disconnected'),
    detail: `local exit ${code}; faults ${faults.join(',') || 'none'}; bit-identical ${same}`,
  };
}

export async function workerSigstop(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  // No backup leases: they would finish the stopped worker's lease and the job before its heartbeat timeout.
  const run = startLocal(ctx, dir, ['--backup-after', '0'], PACED);
  const pid = await pidOf(run, 'worker-0');
  const coordinator = (await run.cluster()).coordinator;
  await workerZeroAtWork(ctx, dir, coordinator);
  process.kill(pid, 'SIGSTOP');
  try {
    await waitFor(
      'the coordinator to time worker-0 out',
      async () => {
        const body = await fetchStatus<{ faults: { kind: string }[] }>(coordinator, ctx.env.DPTRAIN_TOKEN!);
        return body.faults.some((f) => f.kind === 'worker-timeout');
      },
      60_000,
    );
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
