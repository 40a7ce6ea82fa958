import type { SimulationResult } from '@dptrain/simulator';
import { median } from '@dptrain/cluster';
import { steadyWindow } from './run-cpu.js';

/**
 * Each core's idle milliseconds per step of a simulated run over the steps a real run's CPU is
 * read from (STEADY's fractions of them, run-cpu.ts), from the host's busy time at each step's
 * close; null on dedicated machines or with too few steps.
 */
export function modelIdleByCore(coresAtStep: SimulationResult['coresAtStep']): number[] | null {
  if (!coresAtStep || coresAtStep.length < 2) return null;
  const [from, to] = steadyWindow(coresAtStep.length);
  const steps = to - from;
  if (steps <= 0) return null;
  const [a, b] = [coresAtStep[from]!, coresAtStep[to]!];
  // A core busy all along comes out a rounding error below zero.
  return a.busyMs.map((busy, core) => Math.max(0, b.atMs - a.atMs - (b.busyMs[core]! - busy)) / steps);
}

/**
 * The runs' idle ms per step on each core (the median of the runs, core by core) beside the
 * model's, e.g. "1.4 · 5.1 vs 0.4 · 3.9": a core that waits in the runs more than in the model
 * is where the model's step is too short, whatever the machine's speed; null without both.
 */
export function describeCoreIdle(runs: readonly (readonly number[] | null | undefined)[], modelled: readonly number[] | null): string | null {
  const measured = runs.filter((r): r is readonly number[] => Array.isArray(r) && r.length === modelled?.length);
  if (!modelled || measured.length === 0) return null;
  const cores = (values: readonly number[]) => values.map((v) => v.toFixed(1)).join(' · ');
  return `${cores(modelled.map((_, core) => median(measured.map((r) => r[core]!))))} vs ${cores(modelled)}`;
}
