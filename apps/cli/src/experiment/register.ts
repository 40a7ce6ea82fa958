import type { Command } from 'commander';
import { registerSimulate } from './simulate/register.js';

/** Adds the `dptrain experiment` subcommands to `group`. */
export function registerExperiments(group: Command): void {
  registerSimulate(group);
}
