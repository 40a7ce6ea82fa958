import { Command, Option } from 'commander';
import { FLAGS, resolveConfig, type JobConfig } from '@dptrain/config';

/**
 * Adds `--config` and one flag per job config key (@dptrain/config FLAGS), each with the schema's
 * description, default and variable. Defaults are shown, not set: a flag that was not given must
 * not hide the variable or the config file. `cluster: false` (train) hides the cluster-only flags
 * from the help; they are still accepted, as every command takes the same flags.
 */
export function withJobFlags(command: Command, { cluster = true }: { cluster?: boolean } = {}): Command {
  command.addOption(new Option('--config <file>', 'YAML or JSON config file; variables and flags override its keys (env: DPTRAIN_CONFIG)'));
  for (const spec of FLAGS) {
    // The variables are read by resolveConfig (so its errors can name them), not by commander.
    const notes = [spec.defaultText === undefined ? undefined : `default: ${spec.defaultText}`, spec.env ? `env: ${spec.env}` : undefined].filter(Boolean);
    const option = new Option(`${spec.flag} <value>`, `${sentence(spec.description)}${notes.length ? ` (${notes.join('; ')})` : ''}`);
    command.addOption(spec.cluster && !cluster ? option.hideHelp() : option);
  }
  return command;
}

/** A description as a help line shows it: no capital for an ordinary first word, no final period. */
export function sentence(description: string): string {
  const text = description.replace(/\.$/, '');
  return /^[A-Z][a-z]/.test(text) ? `${text[0]!.toLowerCase()}${text.slice(1)}` : text;
}

/** The job config from a command's parsed job flags, the environment and the config file. */
export async function configFrom(options: Record<string, string | undefined>): Promise<JobConfig> {
  const flags: Record<string, string | undefined> = {};
  for (const spec of FLAGS) flags[spec.key] = options[spec.key];
  return resolveConfig({ file: options.config, flags, env: process.env });
}
