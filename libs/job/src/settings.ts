import type { JobConfig } from '@dptrain/config';
import type { ModelConfig } from '@dptrain/model';
import type { OptimizerConfig } from '@dptrain/optim';

/**
 * The optimizer part of a job config. Only hyper-parameters the user set are passed on, so the
 * optimizer's own defaults apply to the rest and a setting the chosen optimizer does not use is
 * refused by `createOptimizer` instead of silently ignored.
 */
export function optimizerConfigOf(config: JobConfig): OptimizerConfig {
  const { optimizer: name, lr, momentum, rho, beta1, beta2, eps, weightDecay } = config;
  const set = Object.entries({ lr, momentum, rho, beta1, beta2, eps, weightDecay }).filter(([, v]) => v !== undefined);
  return { name, ...Object.fromEntries(set) };
}

/** The model part of a job config, for a data set whose samples have `inputShape`. */
export function modelConfigOf(config: JobConfig, inputShape: readonly number[], numClasses: number): ModelConfig {
  const { model: name, hidden, channels, blocks, width, norm } = config;
  const set = Object.entries({ hidden, channels, blocks, width, norm }).filter(([, v]) => v !== undefined);
  return { name, inputShape, numClasses, ...Object.fromEntries(set) };
}
