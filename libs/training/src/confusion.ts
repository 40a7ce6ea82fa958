/**
 * The confusion matrix of a classifier: `matrix[t][p]` counts the samples of true class t it
 * predicted as p. Row sums are the class counts, the diagonal the correct predictions.
 */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  if (labels.length !== predicted.length) throw new RangeError(`confusionMatrix: ${labels.length} labels but ${predicted.length} predictions`);
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predicted[i]] += 1;
  return matrix;
}
