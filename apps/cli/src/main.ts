/**
 * The dptrain command: one program, several roles.
 *
 *   npx dptrain train --model mlp --optimizer adam --epochs 5 --out runs/mlp   # single process
 *   npx dptrain --help                                                         # every command
 *
 * Every command takes the same flags and config-file keys (see @dptrain/config).
 */
import { Command, Option } from 'commander';
import { ConfigError, FLAGS, resolveConfig, type JobConfig } from '@dptrain/config';
import { createLogger } from './logger.js';
import { runTrain } from './commands/train.js';

const DESCRIPTIONS: Record<string, string> = {
  model: 'mlp | cnn | resnet',
  dataset: 'fashion-mnist | mnist | synthetic',
  data: 'directory holding the IDX files',
  optimizer: 'sgd | momentum | nesterov | adagrad | adadelta | adam | adamw | rmsprop | lbfgs',
  backend: 'auto | tensorflow | wasm | cpu (env DPTRAIN_BACKEND)',
  out: 'run folder',
  steps: 'stop after N optimizer steps',
  hidden: 'MLP hidden widths, e.g. 256,128',
  mode: 'sync | async (cluster)',
};

function withJobFlags(command: Command): Command {
  command.addOption(new Option('--config <file>', 'YAML or JSON config file; flags override it'));
  for (const spec of FLAGS) {
    command.addOption(new Option(`${spec.flag} <value>`, DESCRIPTIONS[spec.key] ?? `config key ${spec.key}`));
  }
  return command;
}

async function configFrom(options: Record<string, string | undefined>): Promise<JobConfig> {
  const flags: Record<string, string | undefined> = {};
  for (const spec of FLAGS) flags[spec.key] = options[spec.key];
  return resolveConfig({ file: options.config, flags });
}

const program = new Command('dptrain')
  .description('Distributed data-parallel mini-batch training on TensorFlow.js')
  .showHelpAfterError('(run with --help for the flags)');

withJobFlags(
  program
    .command('train')
    .description('train in this process (the reference the cluster must agree with, bit for bit)'),
).action(async (options: Record<string, string | undefined>) => {
  const logger = createLogger('train');
  const config = await configFrom(options);
  await runTrain(config, logger);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  process.stderr.write(`dptrain: ${code ? `[${code}] ` : ''}${message}\n`);
  if (!(error instanceof ConfigError) && error instanceof Error && process.env.DPTRAIN_DEBUG) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
