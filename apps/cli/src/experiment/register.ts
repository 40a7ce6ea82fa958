import type { Command } from 'commander';
import { registerBatchSize } from './batch-size/command.js';
import { registerDepth } from './depth/command.js';
import { registerOptimizers } from './optimizers/command.js';
import { registerReplot } from './replot.js';
import { registerScaling } from './scaling/command.js';
import { registerSimulate } from './simulate/register.js';

/** Adds the `dptrain experiment` subcommands to `group`. */
export function registerExperiments(group: Command): void {
  registerScaling(group);
  registerOptimizers(group);
  registerBatchSize(group);
  registerDepth(group);
  registerSimulate(group);
  registerReplot(group);
}
