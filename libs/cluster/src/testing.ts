import { parseConfig } from '@dptrain/config';
import type { JobDescription } from '@dptrain/job';

/**
 * A tiny job for unit tests: an MLP 3-4-2 (3·4 + 4 + 4·2 + 2 = 26 parameters) over 64 samples,
 * batches of 8 in micro-batches of 2 (M = 4), 8 steps per epoch.
 */
export function tinyJob(overrides: Record<string, unknown> = {}): JobDescription {
  const config = parseConfig(
    { dataset: 'synthetic', model: 'mlp', hidden: [4], batchSize: 8, microBatchSize: 2, optimizer: 'adam', epochs: 1, ...overrides },
    'test config',
  );
  return { config, inputShape: [3], numClasses: 2, trainCount: 64 };
}
