import { setTimeout as delay } from 'node:timers/promises';
import { createFaultProxy, createNetns, natUnsupported, netnsUnsupported, type FaultProxy, type FaultRule, type Netns } from '@dptrain/fault-proxy';
import { PACED, PAST_TIMEOUT_MS, bitIdentical, shardCounters, startProc, stepsDone, summaryFaults, waitFor } from './processes.js';
import { fetchStatus } from '../cluster/status-http.js';
import type { Proc } from './processes.js';
import type { Context, Outcome } from './types.js';

interface HandCluster {
  readonly coordinator: Proc;
  readonly ps: Proc;
  readonly workers: Proc[];
  readonly netns: Netns;
  readonly host: string;
  readonly psPort: number;
  stop(): void;
}

/**
 * Coordinator and one shard listen on the host end of a veth pair; worker-0 runs inside the
 * namespace (so its link can be cut, or its shard traffic redirected to a proxy), worker-1 outside.
 * `beforeWorkers` runs once the shard is listening.
 */
async function handCluster(
  ctx: Context,
  dir: string,
  beforeWorkers: (c: { netns: Netns; host: string; psPort: number }) => Promise<void> = async () => undefined,
  coordinatorArgs: readonly string[] = [],
  workerEnv: NodeJS.ProcessEnv = {},
): Promise<HandCluster> {
  const netns = createNetns();
  const host = netns.hostAddress;
  const procs: Proc[] = [];
  const stop = (): void => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    netns.destroy();
  };
  try {
    const coordinator = startProc(['coordinator', ...ctx.job, '--workers', '2', ...coordinatorArgs, '--out', dir, '--host', host, '--port', '0'], ctx.env);
    procs.push(coordinator);
    const url = `ws://${host}:${await coordinator.listening}/`;
    const ps = startProc(['ps', '--coordinator', url, '--shard', '0', '--host', host, '--port', '0', '--name', 'ps-0'], ctx.env);
    procs.push(ps);
    const psPort = await ps.listening;
    await beforeWorkers({ netns, host, psPort });
    const backend = ctx.job[ctx.job.indexOf('--backend') + 1];
    const workers = [startProc(['worker', '--coordinator', url, '--backend', backend, '--name', 'worker-0'], { ...ctx.env, ...workerEnv }, netns)];
    procs.push(workers[0]);
    // worker-0 (the one faults hit) joins first, or worker-1 could finish the job alone.
    const status = `ws://${host}:${new URL(url).port}/`;
    await waitFor(
      'worker-0 to register',
      async () => {
        const body = await fetchStatus<{ workers?: { name: string }[] }>(status, ctx.env.DPTRAIN_TOKEN!).catch(() => ({}) as { workers?: { name: string }[] });
        return body.workers?.some((w) => w.name === 'worker-0') ?? false;
      },
      60_000,
    );
    workers.push(startProc(['worker', '--coordinator', url, '--backend', backend, '--name', 'worker-1'], { ...ctx.env, ...workerEnv }));
    procs.push(workers[1]);
    return { coordinator, ps, workers, netns, host, psPort, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

function partitionUnsupported(): string | undefined {
  return netnsUnsupported() ?? natUnsupported();
}

/** worker-0's connection to shard 0 goes through a fault proxy (nftables redirect in its namespace). */
async function throughProxy(ctx: Context, dir: string, schedule: FaultRule[]): Promise<{ cluster: HandCluster; proxy: FaultProxy }> {
  let proxy: FaultProxy | undefined;
  const cluster = await handCluster(ctx, dir, async ({ netns, host, psPort }) => {
    proxy = await createFaultProxy({ target: { host, port: psPort }, host, schedule, seed: ctx.seed });
    netns.redirect({ host, port: psPort }, { host, port: proxy.port });
  });
  return { cluster, proxy: proxy! };
}

/** A push of the MLP's gradient is ~100 KB; pulls are < 100 bytes: 1,000 bytes tells them apart. */
const GRADIENT_FRAME = 1000;

export async function duplicatePush(ctx: Context, dir: string): Promise<Outcome> {
  const skip = partitionUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  const { cluster, proxy } = await throughProxy(ctx, dir, [{ kind: 'duplicate', minPayloadBytes: GRADIENT_FRAME, messages: [1, 2, 3, 5, 8, 13] }]);
  try {
    const { code } = await cluster.coordinator.exit;
    await cluster.ps.exit;
    const counters = shardCounters(cluster.ps);
    const same = await bitIdentical(ctx, dir);
    return {
      ok: code === 0 && same && (counters.duplicate ?? 0) >= 1,
      detail: `seed ${proxy.seed}; proxy duplicated ${proxy.stats.duplicated}; shard duplicate ${counters.duplicate ?? '?'} accepted ${counters.accepted ?? '?'}; bit-identical ${same}`,
    };
  } finally {
    await proxy.close();
    cluster.stop();
  }
}

export async function resetMidFrame(ctx: Context, dir: string): Promise<Outcome> {
  const skip = partitionUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  const { cluster, proxy } = await throughProxy(ctx, dir, [{ kind: 'reset', minPayloadBytes: GRADIENT_FRAME, messages: [3] }]);
  try {
    const { code } = await cluster.coordinator.exit;
    const worker0 = await cluster.workers[0].exit;
    const faults = code === 0 ? await summaryFaults(dir) : [];
    const same = await bitIdentical(ctx, dir);
    return {
      ok: code === 0 && same && proxy.stats.resets === 1,
      detail: `seed ${proxy.seed}; resets ${proxy.stats.resets}; worker-0 exit ${worker0.code} (no reconnection: its lease was re-leased); faults ${faults.join(',')}; bit-identical ${same}`,
    };
  } finally {
    await proxy.close();
    cluster.stop();
  }
}

export async function partition(ctx: Context, dir: string): Promise<Outcome> {
  const skip = netnsUnsupported();
  if (skip) return { ok: true, detail: '', skipped: skip };
  await ctx.reference();
  // No backup leases: they would finish the cut-off worker's lease, and the job, before its
  // heartbeat timeout; and paced workers, or the job could be over before the cut.
  const cluster = await handCluster(ctx, dir, undefined, ['--backup-after', '0'], PACED);
  try {
    await waitFor('5 steps', async () => (await stepsDone(dir)) >= 5);
    cluster.netns.cut();
    await delay(PAST_TIMEOUT_MS);
    cluster.netns.restore();
    const { code } = await cluster.coordinator.exit;
    const faults = code === 0 ? await summaryFaults(dir) : [];
    const same = await bitIdentical(ctx, dir);
    return {
      ok: code === 0 && same && faults.includes('worker-timeout'),
      detail: `coordinator exit ${code}; faults ${faults.join(',')}; bit-identical ${same}`,
    };
  } finally {
    cluster.stop();
  }
}
