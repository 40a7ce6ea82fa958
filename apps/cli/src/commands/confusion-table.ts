import { classLabel } from './open-run.js';

/**
 * A confusion matrix as a table: a row per true class (its label, its counts per predicted class,
 * its total and recall), a column per predicted class (by index), and a row of column totals.
 */
export function confusionTable(matrix: readonly (readonly number[])[], classNames: readonly string[] | undefined): string {
  const labels = matrix.map((_, c) => classLabel(c, classNames));
  const labelWidth = Math.max('total'.length, ...labels.map((l) => l.length));
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const total = rowTotals.reduce((a, b) => a + b, 0);
  const width = Math.max(3, String(total).length);
  const cells = (values: readonly (number | string)[]): string => values.map((v) => ` ${String(v).padStart(width)}`).join('');
  const columnTotals = matrix.map((_, c) => matrix.reduce((a, row) => a + row[c]!, 0));
  const recall = (t: number): string => (rowTotals[t] === 0 ? '-' : `${((100 * matrix[t]![t]!) / rowTotals[t]!).toFixed(1)}%`);
  return [
    `${''.padEnd(labelWidth)}${cells(matrix.map((_, c) => c))}  ${'total'.padStart(Math.max(width, 5))}  recall`,
    ...matrix.map((row, t) => `${labels[t]!.padEnd(labelWidth)}${cells(row)}  ${String(rowTotals[t]).padStart(Math.max(width, 5))}  ${recall(t).padStart(6)}`),
    `${'total'.padEnd(labelWidth)}${cells(columnTotals)}  ${String(total).padStart(Math.max(width, 5))}`,
    '',
  ].join('\n');
}
