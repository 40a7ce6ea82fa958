import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { SCENARIOS, jobArgs } from './catalog.js';
import { runCommand } from './processes.js';
import type { ChaosOptions, ChaosRow, Context, Outcome, Scenario } from './types.js';
import { markdownTable } from '../experiment/common/table.js';

/**
 * `dptrain chaos --scenario NAME|all`: runs fault scenarios against a small local cluster (the
 * synthetic MLP job of jobArgs, 400 steps) and prints one row per scenario: the fault injected,
 * the invariant checked, the result and the time. The reference for "bit-identical" is a
 * fault-free `dptrain train` of the same job: params.safetensors compared byte for byte. Proxy
 * faults follow fixed schedules with a printed seed. Scenarios waiting for cluster features are
 * listed as "not yet supported: <feature>". Exits non-zero when a scenario fails.
 */
export async function runChaos(options: ChaosOptions, logger: Logger): Promise<ChaosRow[]> {
  const chosen = pick(options.scenario);
  await mkdir(options.out, { recursive: true });
  const env = {
    ...process.env,
    DPTRAIN_TOKEN: process.env.DPTRAIN_TOKEN ?? randomBytes(24).toString('hex'),
    DPTRAIN_JOB: `chaos-${process.pid}`,
    DPTRAIN_LOG_LEVEL: 'info',
  };
  let reference: Promise<Buffer> | undefined;
  const ctx: Context = {
    out: options.out,
    job: jobArgs(options.backend),
    seed: options.seed,
    env,
    log: logger,
    layout: options.layout ?? 'separate',
    reference: () =>
      (reference ??= (async () => {
        const dir = join(options.out, 'reference');
        await rm(dir, { recursive: true, force: true });
        const run = await runCommand(['train', ...jobArgs(options.backend), '--out', dir], env);
        if (run.code !== 0) throw new Error(`the fault-free reference run failed (exit ${run.code}): ${run.stderr.slice(-500)}`);
        return readFile(join(dir, 'params.safetensors'));
      })()),
  };
  logger.info(
    { seed: options.seed, out: options.out, layout: ctx.layout },
    `chaos: ${ctx.layout} layout, proxy seed ${options.seed}, run folders in ${options.out}`,
  );
  const rows: ChaosRow[] = [];
  for (const s of chosen) {
    const base = { scenario: `${s.id} ${s.name}`, fault: s.fault, invariant: s.invariant };
    if (s.missing || !s.run) {
      rows.push({ ...base, result: `not yet supported: ${s.missing}`, seconds: 0, detail: '' });
      continue;
    }
    const layouts = s.layouts ?? ['separate'];
    if (!layouts.includes(ctx.layout)) {
      rows.push({ ...base, result: `skipped: the ${layouts.join(' and ')} layout only`, seconds: 0, detail: '' });
      continue;
    }
    const started = performance.now();
    let outcome: Outcome;
    try {
      // The scenario's folder is chaos's own: a second `dptrain chaos` replaces the first one's.
      await rm(join(options.out, s.name), { recursive: true, force: true });
      await rm(join(options.out, `${s.name}-read-only`), { recursive: true, force: true });
      outcome = await s.run(ctx, join(options.out, s.name));
    } catch (error) {
      outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const result = outcome.skipped ? `skipped: ${outcome.skipped}` : outcome.ok ? 'pass' : 'FAIL';
    rows.push({ ...base, result, seconds, detail: outcome.detail });
    logger.info({ scenario: s.name, result, detail: outcome.detail }, `${s.name}: ${result} (${seconds} s) ${outcome.detail}`);
  }
  await writeFile(join(options.out, 'chaos.json'), `${JSON.stringify({ seed: options.seed, rows }, null, 2)}\n`);
  process.stdout.write(table(rows));
  if (rows.some((r) => r.result === 'FAIL')) process.exitCode = 1;
  return rows;
}

function pick(name: string): readonly Scenario[] {
  if (name === 'all') return SCENARIOS;
  const found = SCENARIOS.find((s) => s.name === name || String(s.id) === name);
  if (!found) {
    throw new RangeError(`--scenario ${name} is not a chaos scenario; give 'all' or one of ${SCENARIOS.map((s) => `${s.id}|${s.name}`).join(', ')}`);
  }
  return [found];
}

const COLUMNS = [
  { key: 'scenario', header: 'scenario' },
  { key: 'fault', header: 'fault injected' },
  { key: 'invariant', header: 'invariant checked' },
  { key: 'result', header: 'result' },
  { key: 'time', header: 'time' },
];

function table(rows: readonly ChaosRow[]): string {
  return `${markdownTable(
    COLUMNS,
    rows.map((r) => ({ scenario: r.scenario, fault: r.fault, invariant: r.invariant, result: r.result, time: r.seconds ? `${r.seconds} s` : '' })),
  )}\n`;
}
