/**
 * The dptrain command: one program, several roles.
 *
 *   npx dptrain train --model mlp --optimizer adam --epochs 5 --out runs/mlp   # single process
 *   npx dptrain local --model mlp --workers 2 --out runs/mlp2                  # whole cluster, child processes
 *   DPTRAIN_TOKEN=… dptrain coordinator --port 7000 --workers 2 --out runs/x    # cluster by hand:
 *   DPTRAIN_TOKEN=… dptrain ps --coordinator ws://host:7000/ --shard 0 --port 7001
 *   DPTRAIN_TOKEN=… dptrain worker --coordinator ws://host:7000/
 *   npx dptrain --help                                                         # every command
 *
 * Every command takes the same flags and config-file keys (see @dptrain/config).
 */
import { Command, Option } from 'commander';
import { ConfigError, FLAGS, resolveConfig, type JobConfig } from '@dptrain/config';
import { createLogger } from './logger.js';
import { runTrain } from './commands/train.js';
import { runCoordinator } from './commands/coordinator.js';
import { runLocal } from './commands/local.js';
import { runPs } from './commands/ps.js';
import { runWorker } from './commands/worker.js';

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

/** The job flags given on this command line, to hand on to the coordinator unchanged. */
function jobArgsOf(options: Record<string, string | undefined>): string[] {
  const args = options.config ? ['--config', options.config] : [];
  for (const spec of FLAGS) if (options[spec.key] !== undefined) args.push(spec.flag, options[spec.key]!);
  return args;
}

function portOf(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('E_CONFIG_VALUE', `--${name} ${value} is not a port number; give an integer in 0..65535 (0: any free port)`);
  }
  return port;
}

withJobFlags(program.command('local').description('run the whole cluster (coordinator, parameter servers, workers) as child processes here')).action(
  async (options: Record<string, string | undefined>) => {
    const config = await configFrom(options);
    await runLocal(config, jobArgsOf(options), createLogger('local'));
  },
);

withJobFlags(program.command('coordinator').description('own the job: data plan, leases, membership, evaluation, run folder, GET /status'))
  .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port for WebSocket and HTTP (0: any free port)').default('7000'))
  .action(async (options: Record<string, string | undefined>) => {
    const config = await configFrom(options);
    await runCoordinator(config, { host: options.host!, port: portOf('port', options.port!) }, createLogger('coordinator'));
  });

program
  .command('ps')
  .description('serve one parameter-server shard; the job comes from the coordinator')
  .requiredOption('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/')
  .addOption(new Option('--shard <index>', 'this shard, 0..psShards-1').default('0'))
  .addOption(new Option('--host <host>', 'address to listen on and to announce to workers').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port for workers (0: any free port)').default('0'))
  .addOption(new Option('--name <name>', 'name in logs'))
  .action(async (options: Record<string, string | undefined>) => {
    const shard = Number(options.shard);
    if (!Number.isInteger(shard) || shard < 0) throw new ConfigError('E_CONFIG_VALUE', `--shard ${options.shard} is not a shard index; give 0..psShards-1`);
    await runPs({ coordinator: options.coordinator!, shard, host: options.host!, port: portOf('port', options.port!), name: options.name ?? `ps-${shard}` }, createLogger('ps'));
  });

program
  .command('worker')
  .description('compute leased micro-batches; the job comes from the coordinator')
  .requiredOption('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/')
  .addOption(new Option('--backend <name>', DESCRIPTIONS.backend).default(process.env.DPTRAIN_BACKEND ?? 'auto'))
  .addOption(new Option('--name <name>', 'name in logs').default(`worker-${process.pid}`))
  .action(async (options: Record<string, string | undefined>) => {
    await runWorker({ coordinator: options.coordinator!, name: options.name!, backend: options.backend! }, createLogger('worker'));
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
