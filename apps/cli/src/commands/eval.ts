import { confusionMatrix, evaluateSplit } from '@dptrain/training';
import type { Logger } from '../logger.js';
import { confusionTable } from './confusion-table.js';
import { openRun } from './open-run.js';
import { loadJobDataset } from './train.js';

export interface EvalOptions {
  /** `--data DIR`: where to find the data set instead of the run's own setting. */
  readonly data?: string;
  readonly backend?: string;
  readonly json: boolean;
}

/**
 * `dptrain eval RUN`: the run's final model on the test split of its data set (loaded as the run
 * loaded it), with the evaluation the run ended with (batch norm on the running statistics), so
 * on the same backend the accuracy is summary.json's to the bit; then the confusion matrix.
 */
export async function runEval(dir: string, options: EvalOptions, logger: Logger): Promise<void> {
  const { run, backend } = await openRun(dir, options.backend, logger);
  const dataset = await loadJobDataset(options.data ? { ...run.config, data: options.data } : run.config, logger);
  const { test } = dataset;
  const predicted = new Int32Array(test.count);
  const result = evaluateSplit(run.model, run.params, run.bnState, test, { predicted });
  const confusion = confusionMatrix(test.labels, predicted, run.model.config.numClasses);
  const correct = confusion.reduce((sum, row, c) => sum + row[c]!, 0);
  const summaryAccuracy = run.summary?.testAccuracy;
  if (options.json) {
    const report = {
      run: dir,
      model: run.config.model,
      dataset: run.config.dataset,
      backend,
      count: result.count,
      loss: result.loss,
      accuracy: result.accuracy,
      correct,
      summaryAccuracy: summaryAccuracy ?? null,
      classNames: run.classNames ?? null,
      confusion,
      predicted: Array.from(predicted),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const versus =
    summaryAccuracy === undefined
      ? 'no summary.json'
      : `summary.json: ${summaryAccuracy.toFixed(4)}${summaryAccuracy === result.accuracy ? ', the same' : `, ${run.summary!.backend === backend ? 'differs' : `computed on ${run.summary!.backend}`}`}`;
  process.stdout.write(
    `${dir}: ${run.config.model} on ${run.config.dataset}, ${result.count} test samples, backend ${backend}\n` +
      `test loss ${result.loss.toFixed(4)}, accuracy ${result.accuracy.toFixed(4)} (${correct} of ${result.count}; ${versus})\n\n` +
      `confusion matrix (rows: true class, columns: predicted class)\n${confusionTable(confusion, run.classNames)}`,
  );
}
