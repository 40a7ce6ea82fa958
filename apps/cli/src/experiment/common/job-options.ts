import { Command, Option } from 'commander';
import { FLAGS, flagFor, resolveConfig, type JobConfig } from '@dptrain/config';
import { sentence } from '../../job-flags.js';

/**
 * Adds `--config` and the job flags of every key an experiment does not vary itself (`varied`):
 * they set the base job all of its runs share. `--out` is the experiment's folder, not a run's.
 */
export function withBaseJobFlags(command: Command, varied: readonly string[], defaults: Readonly<Record<string, string>>): Command {
  command.addOption(new Option('--config <file>', 'YAML or JSON config file of the base job; flags override it'));
  for (const spec of FLAGS) {
    if (varied.includes(spec.key) || spec.key === 'out') continue;
    const fallback = spec.defaultText === undefined ? '' : ` (default: ${spec.defaultText})`;
    const help = `${sentence(spec.description)}${defaults[spec.key] ? ` (experiment default: ${defaults[spec.key]})` : fallback}`;
    command.addOption(new Option(`${spec.flag} <value>`, help));
  }
  return command;
}

/** The base job: the job keys given on the command line over the experiment's defaults. */
export class BaseJob {
  private readonly values = new Map<string, string>();

  constructor(
    options: Record<string, unknown>,
    defaults: Readonly<Record<string, string>>,
    readonly configFile?: string,
  ) {
    for (const [key, value] of Object.entries(defaults)) this.values.set(key, value);
    for (const spec of FLAGS) {
      const given = options[spec.key];
      if (typeof given === 'string' && spec.key !== 'out') this.values.set(spec.key, given);
    }
  }

  /** The job flags of one run: the base job's with `overrides` (config keys) replacing or adding keys. */
  args(overrides: Readonly<Record<string, string | number | undefined>> = {}): string[] {
    const merged = new Map(this.values);
    for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged.set(key, String(value));
    const args = this.configFile ? ['--config', this.configFile] : [];
    for (const [key, value] of merged) args.push(flagFor(key), value);
    return args;
  }

  /** The resolved config of one run, checked as the run would check it (bad values fail here, before any run). */
  async resolve(overrides: Readonly<Record<string, string | number | undefined>> = {}): Promise<JobConfig> {
    const flags: Record<string, string> = {};
    for (const [key, value] of this.values) flags[key] = value;
    for (const [key, value] of Object.entries(overrides)) if (value !== undefined) flags[key] = String(value);
    return resolveConfig({ file: this.configFile, flags, env: process.env });
  }
}
