import { epochTrainLoss, evalsOf, secondsAt, stepsToTarget, windowFor } from '../common/curves.js';
import type { RunFolder } from '../common/run-folder.js';
import { sig, type TableRow } from '../common/table.js';
import { ADAPTIVE, type Studied, type SweepRun } from './sweep.js';

export interface RunSummary extends TableRow {
  readonly id: string;
  readonly optimizer: Studied;
  readonly lr: number;
  /** The last epoch's training loss (mean mini-batch loss of its last 10% of steps). */
  readonly trainLoss: number | null;
  /** The best validation accuracy over the epochs (early stopping's choice), and its epoch (1-based). */
  readonly bestValidationAccuracy: number | null;
  readonly bestEpoch: number | null;
  /** Test accuracy and loss at that same evaluation. */
  readonly testAccuracy: number | null;
  readonly testLoss: number | null;
  /** Test loss − that epoch's training loss: how much worse the model does on unseen data. */
  readonly generalizationGap: number | null;
  readonly stepsToTarget: number | null;
  readonly secondsToTarget: number | null;
  readonly wallSeconds: number;
  readonly error: string | null;
}

/** What one run of the sweep says: accuracies at the best validation epoch, gap, time to the target loss. */
export function summarizeRun(run: SweepRun, folder: RunFolder, targetLoss: number): RunSummary {
  const { summary, metrics } = folder;
  const trainByEpoch = epochTrainLoss(metrics.steps);
  const validation = evalsOf(metrics.evals, 'validation');
  const tests = evalsOf(metrics.evals, 'test');
  const best = validation.reduce<(typeof validation)[number] | undefined>((b, e) => (b === undefined || e.accuracy > b.accuracy ? e : b), undefined);
  // Without validation (a runner that has none) the last test evaluation stands in, and the table says so by bestValidationAccuracy = null.
  const at = best ? tests.find((t) => t.step === best.step) : tests[tests.length - 1];
  const lastEpoch = Math.max(...trainByEpoch.keys());
  const trainAt = at ? trainByEpoch.get(at.epoch) : undefined;
  const reached = stepsToTarget(metrics.steps, targetLoss, windowFor(metrics.steps.length));
  return {
    id: run.id,
    optimizer: run.optimizer,
    lr: run.lr,
    trainLoss: finiteSig(trainByEpoch.get(lastEpoch)),
    bestValidationAccuracy: best ? sig(best.accuracy) : null,
    bestEpoch: best ? best.epoch : null,
    testAccuracy: at ? finiteSig(at.accuracy) : null,
    testLoss: at ? finiteSig(at.loss) : null,
    generalizationGap: at && trainAt !== undefined ? finiteSig(at.loss - trainAt) : null,
    stepsToTarget: reached,
    secondsToTarget: reached === null ? null : sig(secondsAt(reached, summary.steps, summary.wallSeconds), 3),
    wallSeconds: sig(summary.wallSeconds, 3),
    error: null,
  };
}

function finiteSig(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : sig(value);
}

/** Each optimizer's run with the best validation accuracy (else the best test accuracy), in sweep order. */
export function bestPerOptimizer(runs: readonly RunSummary[]): RunSummary[] {
  const best = new Map<Studied, RunSummary>();
  const score = (r: RunSummary): number => r.bestValidationAccuracy ?? r.testAccuracy ?? -1;
  for (const r of runs) {
    const b = best.get(r.optimizer);
    if (r.error === null && (b === undefined || score(r) > score(b))) best.set(r.optimizer, r);
  }
  return [...best.values()];
}

export interface GroupBest {
  readonly adaptive: RunSummary | undefined;
  readonly nonAdaptive: RunSummary | undefined;
}

/** The best adaptive and the best non-adaptive method by validation accuracy (Wilson et al.'s comparison). */
export function groupBest(best: readonly RunSummary[]): GroupBest {
  const top = (rows: RunSummary[]): RunSummary | undefined =>
    rows.sort((a, b) => (b.bestValidationAccuracy ?? b.testAccuracy ?? -1) - (a.bestValidationAccuracy ?? a.testAccuracy ?? -1))[0];
  return { adaptive: top(best.filter((r) => ADAPTIVE.has(r.optimizer))), nonAdaptive: top(best.filter((r) => !ADAPTIVE.has(r.optimizer))) };
}
