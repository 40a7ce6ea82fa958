import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidOf, startLocal, type LocalRun } from './local-run.js';
import { bitIdentical, PACED, stepsDone, summaryFaults, waitFor } from './processes.js';
import type { Context, Outcome } from './types.js';

/** Shards checkpoint every this many steps in these scenarios, so a kill after step 30 has one behind it. */
const CHECKPOINT_EVERY = '20';

interface ShardLedger {
  readonly applied: number;
  readonly doubleApplied: number;
}

/**
 * What the run's summary says of exactly-once: every shard's count of applied (step, micro-batch)
 * pairs against steps × micro-batches per step, and its count of pairs it would have applied twice.
 */
async function exactlyOnce(dir: string): Promise<{ ok: boolean; detail: string }> {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as {
    steps: number;
    config: { batchSize: number; microBatchSize: number };
    shards: Partial<ShardLedger & { appliedMicroBatches: number }>[];
  };
  const expected = summary.steps * (summary.config.batchSize / summary.config.microBatchSize);
  const ledgers = summary.shards.map((s) => ({ applied: s.appliedMicroBatches ?? Number.NaN, doubleApplied: s.doubleApplied ?? Number.NaN }));
  const ok = ledgers.length > 0 && ledgers.every((l) => l.applied === expected && l.doubleApplied === 0);
  return {
    ok,
    detail: `applied ${ledgers.map((l) => l.applied).join('/')} of ${expected} (step, micro-batch) pairs, double ${ledgers.map((l) => l.doubleApplied).join('/')}`,
  };
}

/** Kills `name` (SIGKILL) once `steps` steps are closed, then waits for `dptrain local` to end. */
async function killAfter(run: LocalRun, dir: string, name: string, steps: number): Promise<number | null> {
  const pid = await pidOf(run, name);
  await waitFor(`${steps} steps`, async () => (await stepsDone(dir)) >= steps);
  process.kill(pid, 'SIGKILL');
  return (await run.proc.exit).code;
}

/**
 * Kills the process `name` after step 30 (local restarts it with --resume) and checks that the job
 * ends bit-identical, each (step, micro-batch) applied once, with the `expected` faults recorded.
 */
async function shardRestart(ctx: Context, dir: string, name: string, expected: readonly string[]): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir, ['--checkpoint-every', CHECKPOINT_EVERY], PACED);
  const code = await killAfter(run, dir, name, 30);
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  const once = code === 0 ? await exactlyOnce(dir) : { ok: false, detail: '' };
  return {
    ok: code === 0 && same && once.ok && expected.every((kind) => faults.includes(kind)),
    detail: `local exit ${code}; faults ${faults.join(',')}; ${once.detail}; bit-identical ${same}`,
  };
}

export const psRestart = (ctx: Context, dir: string): Promise<Outcome> => shardRestart(ctx, dir, 'ps-0', ['shard-lost', 'shard-restarted']);

/**
 * The co-located layout: worker-0 also serves shard 0, so killing it loses a worker and a shard at
 * once; local restarts it with --resume, as it would a shard.
 */
export const colocatedWorkerRestart = (ctx: Context, dir: string): Promise<Outcome> =>
  shardRestart(ctx, dir, 'worker-0', ['worker-disconnected', 'shard-lost', 'shard-restarted']);

export async function coordinatorRestart(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir, ['--checkpoint-every', CHECKPOINT_EVERY], PACED);
  const code = await killAfter(run, dir, 'coordinator', 30);
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const same = await bitIdentical(ctx, dir);
  // Every step closed exactly once across the two coordinators: metrics.jsonl holds 1..N once each.
  const steps = (await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l.includes('"kind":"step"'))
    .map((l) => (JSON.parse(l) as { step: number }).step);
  const inOrder = steps.length > 0 && steps.every((s, i) => s === i + 1);
  const once = code === 0 ? await exactlyOnce(dir) : { ok: false, detail: '' };
  return {
    ok: code === 0 && same && inOrder && once.ok && faults.includes('coordinator-restarted'),
    detail: `local exit ${code}; faults ${faults.join(',')}; metrics steps 1..${steps.length} once each ${inOrder}; ${once.detail}; bit-identical ${same}`,
  };
}

export async function checkpointCrash(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  // ps-0 stops half-way through writing its step-40 checkpoint; the restart must not see that file.
  const run = startLocal(ctx, dir, ['--checkpoint-every', CHECKPOINT_EVERY], { DPTRAIN_FAULT: 'stall-checkpoint-step=40,only=ps-0' });
  const pid = await pidOf(run, 'ps-0');
  await waitFor('ps-0 to stall inside its checkpoint write', () => run.proc.stderr.some((l) => l.includes('checkpoint-stalled')), 120_000);
  process.kill(pid, 'SIGKILL');
  const { code } = await run.proc.exit;
  const loaded = run.proc.stderr.find((l) => l.includes('checkpoint-loaded')) ?? '';
  const verified = /sha256|verified/.test(loaded) && /"step":20\b/.test(loaded);
  const same = await bitIdentical(ctx, dir);
  const once = code === 0 ? await exactlyOnce(dir) : { ok: false, detail: '' };
  return {
    ok: code === 0 && same && verified && once.ok,
    detail: `local exit ${code}; restart loaded the step-20 checkpoint, checksum verified ${verified}; ${once.detail}; bit-identical ${same}`,
  };
}
