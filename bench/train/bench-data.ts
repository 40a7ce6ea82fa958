import { loadDataset, subset, type Dataset } from '@dptrain/data';

/**
 * Fashion-MNIST as every TypeScript measurement reads it: found locally (`--data` is not a bench
 * flag; `$DPTRAIN_DATA` and the system package `/usr/share/datasets/fashion-mnist` are searched),
 * never downloaded. `loadDataset`'s error names the fixes when it is missing.
 *
 * The test split is cut to its first 1,000 samples: `trainReference` always ends with an
 * evaluation, which the timing excludes and which would otherwise cost the CNN seconds per row.
 */
export async function loadBenchDataset(): Promise<Dataset> {
  const dataset = await loadDataset({ name: 'fashion-mnist', download: false });
  const first = Uint32Array.from({ length: Math.min(1000, dataset.test.count) }, (_, i) => i);
  return { ...dataset, test: subset(dataset.test, first) };
}

/** Epochs that hold `steps` optimizer steps of `batchSize` samples (the plan drops the last partial batch). */
export function epochsFor(dataset: Dataset, batchSize: number, steps: number): number {
  return Math.ceil(steps / Math.floor(dataset.train.count / batchSize));
}
