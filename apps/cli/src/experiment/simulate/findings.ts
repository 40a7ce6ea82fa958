import { tally } from './judge.js';
import type { ProjectionRow } from './project.js';
import type { ValidationRow } from './validate.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Sentences the report opens with, read off the rows (so they change when the numbers do). */
export function findings(validation: readonly ValidationRow[] | null, projections: readonly ProjectionRow[]): string[] {
  const lines: string[] = [];
  if (validation) {
    const worst = validation.reduce<ValidationRow | undefined>(
      (w, r) =>
        r.error !== null &&
        (r.verdict === 'within' || r.verdict === 'outside') &&
        (w?.error === null || w === undefined || Math.abs(r.error) > Math.abs(w.error!))
          ? r
          : w,
      undefined,
    );
    lines.push(
      `- Validation: ${tally(validation.map((r) => r.verdict)).headline}${worst ? `; the largest error of a measurable one is ${(worst.error! * 100).toFixed(1)}% (${worst.id})` : ''}.`,
    );
  }
  const bySeries = (scenario: string): Map<string, ProjectionRow[]> => {
    const map = new Map<string, ProjectionRow[]>();
    for (const r of projections.filter((p) => p.scenario === scenario)) map.set(r.series, [...(map.get(r.series) ?? []), r]);
    return map;
  };
  for (const [series, rows] of bySeries('shards')) {
    const peak = rows.reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
    const efficient = rows.filter((r) => r.efficiency >= 0.8).map((r) => r.workers);
    lines.push(
      `- ${series}: peaks at ${fmt(peak.samplesPerSecond)} samples/s with ${peak.workers} workers (busiest shard busy ${(peak.busiestShard * 100).toFixed(0)}% of the time); ` +
        (efficient.length > 0 ? `efficiency ≥ 0.8 up to ${Math.max(...efficient)} workers.` : 'efficiency below 0.8 at every worker count of the grid.'),
    );
  }
  const colocated = projections.filter((r) => r.scenario === 'shards' && r.layout === 'colocated');
  if (colocated.length > 0) {
    const against = colocated.map((c) => {
      const separate = projections.filter((r) => r.scenario === 'shards' && r.layout !== 'colocated' && r.workers === c.workers);
      const best = separate.reduce<ProjectionRow | undefined>((a, b) => (a === undefined || b.samplesPerSecond > a.samplesPerSecond ? b : a), undefined);
      return `${c.workers} workers ${fmt(c.samplesPerSecond)}${best ? ` against ${fmt(best.samplesPerSecond)} (${best.series})` : ''} samples/s`;
    });
    lines.push(`- Co-located (a shard in each worker) against the best separate layout at the same worker count: ${against.join('; ')}.`);
  }
  const asyncRows = bySeries('async');
  const largest = Math.max(...projections.map((r) => r.workers));
  const atLargest = [...asyncRows.values()].map((rows) => rows.find((r) => r.workers === largest)).filter((r): r is ProjectionRow => r !== undefined);
  if (atLargest.length > 0) {
    lines.push(
      `- At ${largest} workers with one shard: ${atLargest.map((r) => `${r.series} ${fmt(r.samplesPerSecond)} samples/s${r.finished ? '' : ' (did not finish)'}${r.staleReleased > 0 ? `, ${fmt(r.staleReleased)} stale re-leased` : ''}`).join('; ')}.`,
    );
  }
  const tail = bySeries('stragglers');
  const [none, stragglers, backups] = [...tail.values()];
  if (stragglers && backups && none) {
    const at = stragglers.map(
      (r, i) => `${r.workers} workers ${r.stepP99Ms} → ${backups[i]?.stepP99Ms ?? '?'} ms (no stragglers ${none[i]?.stepP99Ms ?? '?'})`,
    );
    lines.push(`- Step time p99 under stragglers, without → with backup leases: ${at.join('; ')}.`);
  }
  return lines;
}
