import { epochTrainLoss, evalsOf, secondsAt } from '../common/curves.js';
import type { RunFolder } from '../common/run-folder.js';
import { sig, type TableRow } from '../common/table.js';
import type { BatchRun } from './plan.js';

export interface BatchSummary extends TableRow {
  readonly id: string;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly steps: number;
  readonly samplesPerSecond: number | null;
  readonly wallSeconds: number | null;
  readonly trainLoss: number | null;
  readonly validationAccuracy: number | null;
  readonly testAccuracy: number | null;
  /** First epoch (1-based) whose evaluation reached the target accuracy; null if none did. */
  readonly epochsToTarget: number | null;
  readonly secondsToTarget: number | null;
  readonly error: string | null;
}

/**
 * One batch size's run: throughput, final accuracies and when the target accuracy was first reached
 * (on the validation split when the run has one, else on the test split).
 */
export function summarizeBatchRun(run: BatchRun, folder: RunFolder, targetAccuracy: number): BatchSummary {
  const { summary, metrics } = folder;
  const validation = evalsOf(metrics.evals, 'validation');
  const judged = validation.length > 0 ? validation : evalsOf(metrics.evals, 'test');
  const reached = judged.find((e) => e.accuracy >= targetAccuracy);
  const train = epochTrainLoss(metrics.steps);
  const lastTrain = train.get(Math.max(...train.keys()));
  return {
    id: run.id,
    batchSize: run.batchSize,
    lr: run.lr,
    warmupSteps: run.warmupSteps,
    steps: summary.steps,
    samplesPerSecond: sig(summary.samplesPerSecond),
    wallSeconds: sig(summary.wallSeconds, 3),
    trainLoss: lastTrain === undefined || !Number.isFinite(lastTrain) ? null : sig(lastTrain),
    validationAccuracy: validation.length > 0 ? sig(validation[validation.length - 1]!.accuracy) : null,
    testAccuracy: Number.isFinite(summary.testAccuracy) ? sig(summary.testAccuracy) : null,
    epochsToTarget: reached ? reached.epoch : null,
    secondsToTarget: reached ? sig(secondsAt(reached.step, summary.steps, summary.wallSeconds), 3) : null,
    error: null,
  };
}
