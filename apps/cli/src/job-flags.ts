import { Command, Option } from 'commander';
import { FLAGS, resolveConfig, type JobConfig } from '@dptrain/config';

/** Help text of the job flags that need more than their config key's name. */
export const DESCRIPTIONS: Record<string, string> = {
  model: 'mlp | cnn | resnet',
  dataset: 'fashion-mnist | mnist | synthetic',
  data: 'directory holding the IDX files',
  optimizer: 'sgd | momentum | nesterov | adagrad | adadelta | adam | adamw | rmsprop | lbfgs',
  backend: 'auto | tensorflow | wasm | cpu',
  out: 'run folder',
  steps: 'stop after N optimizer steps',
  hidden: 'MLP hidden widths, e.g. 256,128',
  mode: 'sync | async (cluster)',
};

/** Adds `--config` and one flag per job config key (@dptrain/config FLAGS). */
export function withJobFlags(command: Command): Command {
  command.addOption(new Option('--config <file>', 'YAML or JSON config file; env and flags override it (env: DPTRAIN_CONFIG)'));
  for (const spec of FLAGS) {
    // The variables are read by resolveConfig (so its errors can name them), not by commander.
    const env = spec.env ? ` (env: ${spec.env})` : '';
    command.addOption(new Option(`${spec.flag} <value>`, `${DESCRIPTIONS[spec.key] ?? `config key ${spec.key}`}${env}`));
  }
  return command;
}

/** The job config from a command's parsed job flags, the environment and the config file. */
export async function configFrom(options: Record<string, string | undefined>): Promise<JobConfig> {
  const flags: Record<string, string | undefined> = {};
  for (const spec of FLAGS) flags[spec.key] = options[spec.key];
  return resolveConfig({ file: options.config, flags, env: process.env });
}
