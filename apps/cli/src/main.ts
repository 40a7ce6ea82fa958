/**
 * The dptrain command: one program, several roles.
 *
 *   npx dptrain train --model mlp --optimizer adam --epochs 5 --out runs/mlp   # single process
 *   npx dptrain local --model mlp --workers 2 --out runs/mlp2                  # whole cluster, child processes
 *   DPTRAIN_TOKEN=… dptrain coordinator --port 7000 --workers 2 --out runs/x    # cluster by hand:
 *   DPTRAIN_TOKEN=… dptrain ps --coordinator ws://host:7000/ --shard 0 --port 7001
 *   DPTRAIN_TOKEN=… dptrain worker --coordinator ws://host:7000/
 *   npx dptrain --help                                                         # every command
 *   DPTRAIN_PORT=7000 dptrain --dry-run coordinator   # print the resolved settings as JSON, run nothing
 *
 * Every command takes the same flags and config-file keys (see @dptrain/config), and reads each
 * from the environment too (`--batch-size` from DPTRAIN_BATCH_SIZE, `--config` from DPTRAIN_CONFIG,
 * `--port` from DPTRAIN_PORT): flags > env > config file > defaults, as in a container.
 */
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { parseBackendChoice } from '@dptrain/backend';
import { checkClusterConfig } from '@dptrain/cluster';
import { ConfigError, FLAGS, type JobConfig } from '@dptrain/config';
import { createLogger } from './logger.js';
import { runTrain } from './commands/train.js';
import { runCoordinator } from './commands/coordinator.js';
import { runLocal } from './commands/local.js';
import { runPs } from './commands/ps.js';
import { runWorker } from './commands/worker.js';
import { runChaos } from './chaos/run-chaos.js';
import { registerExperiments } from './experiment/register.js';
import { configFrom, DESCRIPTIONS, withJobFlags } from './job-flags.js';

/**
 * `--dry-run`: after the command line, env and config file are resolved and checked as the role's
 * start-up would check them (`check`), print the result as one JSON line on stdout and tell the
 * action to stop before running anything.
 */
function dryRun(command: Command, resolved: Record<string, unknown>, check?: () => void): boolean {
  if (!command.optsWithGlobals().dryRun) return false;
  check?.();
  process.stdout.write(`${JSON.stringify({ command: command.name(), ...resolved })}\n`);
  return true;
}

/** The cluster's start-up check of the job, as a ConfigError like the other bad settings. */
function checkCluster(config: JobConfig): void {
  try {
    checkClusterConfig(config);
  } catch (error) {
    throw new ConfigError('E_CONFIG_VALUE', (error as Error).message, { cause: error });
  }
}

const program = new Command('dptrain')
  .description('Distributed data-parallel mini-batch training on TensorFlow.js')
  .addOption(new Option('--dry-run', 'resolve flags, env and config file, print the settings as JSON and exit without running'))
  .showHelpAfterError('(run with --help for the flags)');

withJobFlags(
  program
    .command('train')
    .description('train in this process (the reference the cluster must agree with, bit for bit)'),
).action(async (options: Record<string, string | undefined>, command: Command) => {
  const config = await configFrom(options);
  if (dryRun(command, { config })) return;
  await runTrain(config, createLogger('train'));
});

/** The job flags given on this command line, to hand on to the coordinator unchanged. */
function jobArgsOf(options: Record<string, string | undefined>): string[] {
  const args = options.config ? ['--config', options.config] : [];
  for (const spec of FLAGS) if (options[spec.key] !== undefined) args.push(spec.flag, options[spec.key]!);
  return args;
}

/** How an option was given, for error messages: `--port 70000` or `DPTRAIN_PORT=70000`. */
function given(command: Command, key: string): string {
  const option = command.options.find((o) => o.attributeName() === key);
  const value = String(command.getOptionValue(key));
  return command.getOptionValueSource(key) === 'env' ? `${option?.envVar}=${value}` : `${option?.long ?? key} ${value}`;
}

/** A non-negative integer option no larger than `max`; digits only, so an empty variable is not 0. */
function integerOf(command: Command, key: string, max: number, help: string): number {
  const text = String(command.getOptionValue(key));
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value <= max)) throw new ConfigError('E_CONFIG_VALUE', `${given(command, key)} is not ${help}`);
  return value;
}

/** The TLS file flags given, as options of the role (the files are read when it starts). */
function tlsFilesOf(options: Record<string, string | undefined>): { tlsCert?: string; tlsKey?: string; tlsCa?: string } {
  return {
    ...(options.tlsCert ? { tlsCert: options.tlsCert } : {}),
    ...(options.tlsKey ? { tlsKey: options.tlsKey } : {}),
    ...(options.tlsCa ? { tlsCa: options.tlsCa } : {}),
  };
}

function portOf(command: Command): number {
  return integerOf(command, 'port', 65535, 'a port number; give an integer in 0..65535 (0: any free port)');
}

function coordinatorOf(command: Command): string {
  const value = String(command.getOptionValue('coordinator'));
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    throw new ConfigError('E_CONFIG_VALUE', `${given(command, 'coordinator')} is not a WebSocket URL; give the coordinator as ws://HOST:PORT/, e.g. ws://coordinator:7000/`);
  }
  return value;
}

withJobFlags(program.command('local').description('run the whole cluster (coordinator, parameter servers, workers) as child processes here')).action(
  async (options: Record<string, string | undefined>, command: Command) => {
    const config = await configFrom(options);
    if (dryRun(command, { config }, () => checkCluster(config))) return;
    await runLocal(config, jobArgsOf(options), createLogger('local'));
  },
);

withJobFlags(program.command('coordinator').description('own the job: data plan, leases, membership, evaluation, run folder, GET /status'))
  .addOption(new Option('--host <host>', 'address to listen on').env('DPTRAIN_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port for WebSocket and HTTP (0: any free port)').env('DPTRAIN_PORT').default('7000'))
  .addOption(new Option('--resume', 'continue the job of the run folder after a restart: steps from the shards, metrics and faults from the folder'))
  .addOption(new Option('--tls-cert <file>', 'serve wss:// with this certificate (PEM); with --tls-key').env('DPTRAIN_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)').env('DPTRAIN_TLS_KEY'))
  .action(async (options: Record<string, string | undefined>, command: Command) => {
    const config = await configFrom(options);
    const server = { host: options.host!, port: portOf(command), resume: options.resume !== undefined, ...tlsFilesOf(options) };
    if (dryRun(command, { config, options: server }, () => checkCluster(config))) return;
    await runCoordinator(config, server, createLogger('coordinator'));
  });

program
  .command('ps')
  .description('serve one parameter-server shard; the job comes from the coordinator')
  .addOption(new Option('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/').env('DPTRAIN_COORDINATOR').makeOptionMandatory())
  .addOption(new Option('--shard <index>', 'this shard, 0..psShards-1').env('DPTRAIN_SHARD').default('0'))
  .addOption(new Option('--host <host>', 'address to listen on and to announce to workers').env('DPTRAIN_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port for workers (0: any free port)').env('DPTRAIN_PORT').default('0'))
  .addOption(new Option('--name <name>', 'name in logs').env('DPTRAIN_NAME'))
  .addOption(new Option('--resume', 'restore the shard from its newest valid checkpoint and write-ahead log, then register at that version'))
  .addOption(new Option('--checkpoint-dir <dir>', "root of the shards' checkpoint directories (shard-<k>/ inside); default the job's checkpointDir, else <out>/checkpoints").env('DPTRAIN_CHECKPOINT_DIR'))
  .addOption(new Option('--tls-cert <file>', 'serve workers wss:// with this certificate (PEM); with --tls-key').env('DPTRAIN_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)').env('DPTRAIN_TLS_KEY'))
  .addOption(new Option('--tls-ca <file>', 'trust this certificate authority (PEM) for a wss:// coordinator').env('DPTRAIN_TLS_CA'))
  .action(async (options: Record<string, string | undefined>, command: Command) => {
    const shard = integerOf(command, 'shard', Number.MAX_SAFE_INTEGER, 'a shard index; give 0..psShards-1');
    const ps = {
      coordinator: coordinatorOf(command),
      shard,
      host: options.host!,
      port: portOf(command),
      name: options.name ?? `ps-${shard}`,
      resume: options.resume !== undefined,
      ...(options.checkpointDir ? { checkpointDir: options.checkpointDir } : {}),
      ...tlsFilesOf(options),
    };
    if (dryRun(command, { options: ps })) return;
    await runPs(ps, createLogger('ps'));
  });

program
  .command('worker')
  .description('compute leased micro-batches; the job comes from the coordinator')
  .addOption(new Option('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/').env('DPTRAIN_COORDINATOR').makeOptionMandatory())
  .addOption(new Option('--backend <name>', DESCRIPTIONS.backend).env('DPTRAIN_BACKEND').default('auto'))
  // The host name tells apart workers whose pids coincide, as in containers.
  .addOption(new Option('--name <name>', 'name in logs').env('DPTRAIN_NAME').default(`worker-${hostname()}-${process.pid}`))
  .addOption(new Option('--tls-ca <file>', 'trust this certificate authority (PEM) for wss:// coordinator and shards').env('DPTRAIN_TLS_CA'))
  .action(async (options: Record<string, string | undefined>, command: Command) => {
    const worker = { coordinator: coordinatorOf(command), name: options.name!, backend: parseBackendChoice(options.backend!), ...tlsFilesOf(options) };
    if (dryRun(command, { options: worker })) return;
    await runWorker(worker, createLogger('worker'));
  });

program
  .command('chaos')
  .description('run fault scenarios against a small local cluster and print what held (dptrain chaos --scenario all)')
  .addOption(new Option('--scenario <name>', "a scenario's name or number, or all").default('all'))
  .addOption(new Option('--out <dir>', 'reference run, one run folder per scenario, chaos.json').default('runs/chaos'))
  .addOption(new Option('--seed <n>', 'seed of the fault proxies (printed)').default('1'))
  .addOption(new Option('--backend <name>', 'cpu | wasm').default('cpu'))
  .action(async (options: Record<string, string>, command: Command) => {
    const seed = integerOf(command, 'seed', 0xffff_ffff, 'a 32-bit unsigned seed; give an integer in 0..4294967295');
    if (options.backend !== 'cpu' && options.backend !== 'wasm') throw new ConfigError('E_CONFIG_VALUE', `--backend ${options.backend} is not a chaos backend; give cpu or wasm`);
    await runChaos({ scenario: options.scenario, out: options.out, seed, backend: options.backend }, createLogger('chaos'));
  });

registerExperiments(program.command('experiment').description('scaling runs, the scaling simulator and the lecture\'s optimizer, batch-size and depth studies; each writes a report'));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  process.stderr.write(`dptrain: ${code ? `[${code}] ` : ''}${message}\n`);
  if (!(error instanceof ConfigError) && error instanceof Error && process.env.DPTRAIN_DEBUG) process.stderr.write(`${error.stack}\n`);
  // Now, not when the event loop empties: an open connection (a shard registered with its
  // coordinator before its checkpoint directory failed) would keep a failed process alive.
  process.exit((error as { exitCode?: number }).exitCode ?? 1);
}
