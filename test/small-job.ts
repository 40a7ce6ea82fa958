/**
 * The job flags of the small synthetic job the end-to-end tests run: an MLP with one hidden layer
 * of `hidden` units, 4 micro-batches of 8 samples per step, on the cpu backend (the same bits on
 * every machine). Each test adds its length and its own settings.
 */
export function smallJob(extra: readonly string[], hidden = 32): string[] {
  return [
    ...['--dataset', 'synthetic', '--model', 'mlp', '--hidden', String(hidden)],
    ...['--batch-size', '32', '--micro-batch-size', '8', '--backend', 'cpu'],
    ...extra,
  ];
}
