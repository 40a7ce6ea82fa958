import type { Command } from 'commander';

/** Adds `dptrain experiment simulate` to `group`. */
export function registerSimulate(group: Command): void {
  void group;
}
