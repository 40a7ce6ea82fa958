import { startLocal } from './local-run.js';
import { bitIdentical, readSummary, summaryFaults } from './processes.js';
import type { Context, Outcome } from './types.js';

export async function straggler(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  // worker-0 takes 40× its compute time per micro-batch; a lease is a straggler after 3× the
  // median of the step's finished leases and at least 30 ms.
  const run = startLocal(ctx, dir, ['--backup-after', '3', '--backup-min-ms', '30'], { DPTRAIN_FAULT: 'slow=40,only=worker-0' });
  const { code } = await run.proc.exit;
  const summary = code === 0 ? await readSummary(dir) : {};
  const backups = summary.backupLeases ?? 0;
  // The slowed worker straggled under its own id (local's worker-k is worker id k); a backup lease
  // is no fault, so `faults` does not list them.
  const slow = summary.workers?.find((w) => w.name === 'worker-0');
  const named = slow?.workerId === 0 && slow.leasesBackedUp > 0;
  const faults = (summary.faults ?? []).map((f) => f.kind);
  const same = await bitIdentical(ctx, dir);
  return {
    ok: code === 0 && same && backups > 0 && named && !faults.includes('backup-leased'),
    detail: `local exit ${code}; backup leases ${backups}, of worker-0's leases ${slow?.leasesBackedUp ?? '?'} (worker id ${slow?.workerId ?? '?'}); faults ${faults.join(',') || 'none'}; bit-identical ${same}`,
  };
}

export async function nanQuarantine(ctx: Context, dir: string): Promise<Outcome> {
  await ctx.reference();
  const run = startLocal(ctx, dir, ['--quarantine-after', '3'], { DPTRAIN_FAULT: 'nan-from-step=10,only=worker-0' });
  const { code } = await run.proc.exit;
  const faults = code === 0 ? await summaryFaults(dir) : [];
  const refused = run.proc.stderr.filter((l) => l.includes('push-refused')).length;
  const same = await bitIdentical(ctx, dir);
  return {
    ok: code === 0 && same && faults.includes('worker-quarantined'),
    detail: `local exit ${code}; push-refused log lines ${refused}; faults ${faults.join(',')}; bit-identical ${same}`,
  };
}
