import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { BACKEND_NAMES, ConfigError, FLAGS, type JobConfig } from '@dptrain/config';
import { configFrom, withJobFlags } from '../job-flags.js';
import {
  checkMetricsListen,
  metricsFileOption,
  metricsHostOption,
  metricsPortBaseOf,
  metricsPortBaseOption,
  metricsPortOption,
  workerMetricsOf,
} from './metrics-options.js';
import { checkListen, checkTlsFiles, checkToken } from './preflight.js';
import { coordinatorOf, dryRun, integerOf, portOf, tlsFilesOf } from './role-options.js';
import { localTraceOption, roleTraceOption } from './trace-command.js';

// The roles of the one dptrain program. Each command's module (and TensorFlow.js, the data set
// loaders, the cluster) is imported when the command runs, so `--help`, `--version` and a dry run
// load none of it.

/** `--join-link` of the coordinator and of local: a link a browser tab opens to join as a worker. */
function joinLinkOption(): Option {
  return new Option('--join-link', 'print a link that lets a browser tab join as a worker (GET /worker; the link admits workers for an hour)');
}

/** The flags of a process that serves a shard: `dptrain ps`, and `dptrain worker --shard`. */
function withShardServerOptions(command: Command): Command {
  return command
    .addOption(new Option('--host <host>', 'address to listen on and to announce to workers').env('DPTRAIN_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port for workers (0: any free port)').env('DPTRAIN_PORT').default('0'))
    .addOption(new Option('--resume', 'restore the shard from its newest valid checkpoint and write-ahead log, then register at that version'))
    .addOption(
      new Option(
        '--checkpoint-dir <dir>',
        "root of the shards' checkpoint directories (shard-<k>/ inside); default the job's checkpointDir, else <out>/checkpoints",
      ).env('DPTRAIN_CHECKPOINT_DIR'),
    )
    .addOption(new Option('--tls-cert <file>', 'serve workers wss:// with this certificate (PEM); with --tls-key').env('DPTRAIN_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)').env('DPTRAIN_TLS_KEY'));
}

/** The shard a `withShardServerOptions` command serves, from its flags. */
function shardServerOf(command: Command, options: Record<string, string | undefined>, name: string | undefined) {
  const shard = integerOf(command, 'shard', Number.MAX_SAFE_INTEGER, 'a shard index; give 0..psShards-1');
  return {
    coordinator: coordinatorOf(command),
    shard,
    host: options.host!,
    port: portOf(command),
    name: name ?? `ps-${shard}`,
    resume: options.resume !== undefined,
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir } : {}),
  };
}

/** The cluster's start-up check of the job (a ConfigError like the other bad settings). */
async function checkCluster(config: JobConfig): Promise<() => void> {
  const { checkClusterConfig } = await import('@dptrain/job');
  return () => checkClusterConfig(config);
}

/**
 * The job and how the run claims its folder: `--resume RUN` takes the job from RUN/config.json
 * (no job flag may change it), `--force` replaces what an earlier run left in --out, and otherwise
 * --out must be new or empty. The folder is claimed (checked, or cleared) here, before anything
 * loads; a dry run leaves it alone.
 */
async function jobAndFolder(options: Record<string, string | boolean | undefined>): Promise<{ config: JobConfig; folder: 'new' | 'force' | 'resume' }> {
  const given = FLAGS.filter((f) => options[f.key] !== undefined).map((f) => f.flag);
  if (options.resume !== undefined) {
    if (options.force) throw new ConfigError('E_CONFIG_VALUE', '--resume continues a run and --force replaces one; give one of them');
    if (given.length > 0 || options.config)
      throw new ConfigError(
        'E_CONFIG_VALUE',
        `--resume ${String(options.resume)} takes the job from its config.json; drop ${[...given, ...(options.config ? ['--config'] : [])].join(', ')}`,
      );
    const { readRunConfig } = await import('@dptrain/training/run-folder');
    return { config: await readRunConfig(String(options.resume)), folder: 'resume' };
  }
  const config = await configFrom(options as Record<string, string | undefined>);
  return { config, folder: options.force ? 'force' : 'new' };
}

async function claim(out: string, folder: 'new' | 'force' | 'resume' | 'continue'): Promise<'fresh' | 'resumed'> {
  const { claimRunFolder } = await import('@dptrain/training/run-folder');
  return claimRunFolder(out, folder);
}

async function logger(role: string) {
  const { createLogger } = await import('../logger.js');
  return createLogger(role);
}

export function registerRoles(program: Command): void {
  const runFolderOptions = (command: Command): Command =>
    command
      .addOption(
        new Option('--resume <run>', 'continue the stopped run in this folder (its job from its config.json); it ends with the bits of an uninterrupted run'),
      )
      .addOption(new Option('--force', 'replace what an earlier run left in --out (without it a used --out is refused)'));

  runFolderOptions(
    withJobFlags(program.command('train').description('train in this process (the reference the cluster must agree with, bit for bit)'), { cluster: false }),
  ).action(async (options: Record<string, string | undefined>, command: Command) => {
    const { config, folder } = await jobAndFolder(options);
    if (dryRun(command, { config, folder })) return;
    await claim(config.out, folder);
    const { runTrain } = await import('../commands/train.js');
    await runTrain(config, await logger('train'), folder === 'resume');
  });

  runFolderOptions(
    withJobFlags(program.command('local').description('run the whole cluster (coordinator, parameter servers, workers) as child processes here')),
  )
    .addOption(localTraceOption())
    .addOption(metricsPortBaseOption())
    .addOption(joinLinkOption())
    .addOption(
      new Option(
        '--colocate',
        'each worker also serves one parameter-server shard (psShards becomes --workers) instead of separate parameter-server processes',
      ),
    )
    .addOption(
      new Option(
        '--pin-cpus',
        'pin each process to one CPU with taskset (workers first, then shards, then the coordinator, round the CPUs): the same processes share the same cores in every run, for measurements that repeat',
      ),
    )
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const job = await jobAndFolder(options as Record<string, string | undefined>);
      const colocate = options.colocate === true;
      const config = colocate ? { ...job.config, psShards: job.config.workers } : job.config;
      const { folder } = job;
      const trace = options.trace as string | undefined;
      const metricsPortBase = await metricsPortBaseOf(command, config.workers);
      const given = {
        ...(trace ? { trace } : {}),
        ...(metricsPortBase === undefined ? {} : { metricsPortBase }),
        ...(colocate ? { colocate } : {}),
        ...(options.joinLink === true ? { joinLink: true } : {}),
        ...(options.pinCpus === true ? { pinCpus: true } : {}),
      };
      if (dryRun(command, { config, folder, ...given }, await checkCluster(config))) return;
      if (trace) await (await import('../observe/trace-folder.js')).prepareTraceFolder(trace, folder);
      await claim(config.out, folder);
      const { runLocal } = await import('../commands/local.js');
      await runLocal(config, await logger('local'), { resume: folder === 'resume', ...given });
    });

  withJobFlags(program.command('coordinator').description('own the job: data plan, leases, membership, evaluation, run folder, GET /status'))
    .addOption(new Option('--host <host>', 'address to listen on').env('DPTRAIN_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port for WebSocket and HTTP (0: any free port)').env('DPTRAIN_PORT').default('7000'))
    .addOption(
      new Option(
        '--resume',
        'continue the job of the run folder after a restart (or start it, when the folder holds none): steps from the shards, metrics and faults from the folder',
      ),
    )
    .addOption(new Option('--force', 'replace what an earlier run left in --out (without it a used --out is refused)'))
    .addOption(new Option('--tls-cert <file>', 'serve wss:// with this certificate (PEM); with --tls-key').env('DPTRAIN_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'the private key of --tls-cert (PEM)').env('DPTRAIN_TLS_KEY'))
    .addOption(roleTraceOption())
    .addOption(joinLinkOption())
    // dptrain local binds the coordinator's port itself and hands the socket over, so that the
    // other processes can start (and connect) while the coordinator loads.
    .addOption(new Option('--listen-fd <fd>', 'listen on this inherited socket, bound to --host:--port already').hideHelp())
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const config = await configFrom(options);
      const server = {
        host: options.host!,
        port: portOf(command),
        resume: options.resume !== undefined,
        ...tlsFilesOf(options),
        ...(options.trace ? { trace: options.trace } : {}),
        ...(options.listenFd !== undefined ? { listenFd: integerOf(command, 'listenFd', 65535, 'an open file descriptor number') } : {}),
        ...(options.joinLink !== undefined ? { joinLink: true } : {}),
      };
      if (dryRun(command, { config, options: server }, await checkCluster(config))) return;
      await checkToken();
      await checkTlsFiles(server);
      if (server.listenFd === undefined) await checkListen(server.host, server.port);
      const state = await claim(config.out, server.resume ? 'continue' : options.force ? 'force' : 'new');
      const { runCoordinator } = await import('../commands/coordinator.js');
      await runCoordinator(config, { ...server, resume: state === 'resumed' }, await logger('coordinator'));
    });

  const psCommand = program
    .command('ps')
    .description('serve one parameter-server shard; the job comes from the coordinator')
    .addOption(new Option('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/').env('DPTRAIN_COORDINATOR').makeOptionMandatory())
    .addOption(new Option('--shard <index>', 'this shard, 0..psShards-1').env('DPTRAIN_SHARD').default('0'))
    .addOption(new Option('--name <name>', 'name in logs (default: ps-<shard>)').env('DPTRAIN_NAME'));
  withShardServerOptions(psCommand)
    .addOption(new Option('--tls-ca <file>', 'trust this certificate authority (PEM) for a wss:// coordinator').env('DPTRAIN_TLS_CA'))
    .addOption(metricsFileOption())
    .addOption(roleTraceOption())
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ps = {
        ...shardServerOf(command, options, options.name),
        ...tlsFilesOf(options),
        ...(options.trace ? { trace: options.trace } : {}),
        ...(options.metricsFile ? { metricsFile: options.metricsFile } : {}),
      };
      if (dryRun(command, { options: ps })) return;
      await checkToken();
      await checkTlsFiles(ps);
      await checkListen(ps.host, ps.port);
      const { runPs } = await import('../commands/ps.js');
      await runPs(ps, await logger('ps'));
    });

  const workerCommand = program
    .command('worker')
    .description('compute leased micro-batches; the job comes from the coordinator')
    .addOption(new Option('--coordinator <url>', 'the coordinator, e.g. ws://127.0.0.1:7000/').env('DPTRAIN_COORDINATOR').makeOptionMandatory())
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend of this worker').choices(BACKEND_NAMES).env('DPTRAIN_BACKEND').default('auto'))
    // The host name tells apart workers whose pids coincide, as in containers.
    .addOption(new Option('--name <name>', 'name in logs (default: worker-<host>-<pid>)').env('DPTRAIN_NAME'))
    .addOption(
      new Option(
        '--worker-id <id>',
        'the id to ask the coordinator for, granted when no other worker holds it (default: the coordinator picks; local gives worker-k id k)',
      ).env('DPTRAIN_WORKER_ID'),
    )
    .addOption(new Option('--tls-ca <file>', 'trust this certificate authority (PEM) for wss:// coordinator and shards').env('DPTRAIN_TLS_CA'))
    .addOption(
      new Option(
        '--samples-from-coordinator',
        'load no data set: the coordinator sends the samples of each leased micro-batch with the lease (same bits; about 50 KB per lease of a 64-sample MLP batch of Fashion-MNIST)',
      ),
    )
    .addOption(
      new Option('--shard <index>', 'also serve this parameter-server shard, 0..psShards-1, in this process (the co-located layout; see --host, --port)').env(
        'DPTRAIN_SHARD',
      ),
    );
  withShardServerOptions(workerCommand)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .addOption(metricsFileOption())
    .addOption(roleTraceOption())
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const workerOptions = {
        coordinator: coordinatorOf(command),
        name: options.name ?? `worker-${hostname()}-${process.pid}`,
        backend: options.backend!,
        // An empty variable counts as unset, as for every other setting.
        ...(options.workerId
          ? {
              workerId: integerOf(
                command,
                'workerId',
                Number.MAX_SAFE_INTEGER,
                'a worker id; give a non-negative integer, or leave it out for the id the coordinator gives',
              ),
            }
          : {}),
        ...tlsFilesOf(options),
        ...(options.trace ? { trace: options.trace } : {}),
        ...workerMetricsOf(command),
        ...(options.samplesFromCoordinator !== undefined ? { samplesFromCoordinator: true } : {}),
      };
      const shard = options.shard === undefined || options.shard === '' ? undefined : { ...shardServerOf(command, options, undefined), ...tlsFilesOf(options) };
      if (dryRun(command, { options: workerOptions, ...(shard ? { shard } : {}) })) return;
      await checkToken();
      await checkTlsFiles(workerOptions);
      await checkMetricsListen(workerOptions.metrics);
      if (shard) {
        await checkTlsFiles(shard);
        await checkListen(shard.host, shard.port);
        const { runColocatedWorker } = await import('../commands/colocated-worker.js');
        await runColocatedWorker(workerOptions, shard, await logger('worker'));
        return;
      }
      const { runWorker } = await import('../commands/worker.js');
      await runWorker(workerOptions, await logger('worker'));
    });
}
