import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkClusterConfig, pinnedCores } from '@dptrain/job';
import { FLAGS, type JobConfig } from '@dptrain/config';
import { makeDirectory, writeFileAtomic } from '@dptrain/safetensors';
import { TRACE_FILE_SUFFIX } from '../observe/trace-folder.js';
import { dashboardUrl } from '../cluster/dashboard-http.js';
import { fetchStatus } from '../cluster/status-http.js';
import { logFormat, prettyLine, type Logger } from '../logger.js';
import { Interrupted } from '../interrupted.js';
import { TrainingProgress, type EvalEvent, type RunResult } from '../progress.js';
import { withCode } from '@dptrain/errors';
import { BIN } from '../app-root.js';
import { allowedCpus, checkTaskset, pinned } from '../cluster/cpu-affinity.js';

/** How long a child may take to stop after SIGTERM before it is killed. */
const CHILD_STOP_MS = 5_000;

/** Restarts of one coordinator or shard before `dptrain local` gives up on it. */
const MAX_RESTARTS = 3;

interface Child {
  readonly role: 'coordinator' | 'ps' | 'worker';
  readonly name: string;
  /** Arguments of its first start; a restart adds `--resume` and its first port. */
  readonly args: readonly string[];
  /** A worker's id, which it asks the coordinator for (--worker-id): k for worker-k. */
  readonly workerId?: number;
  /** A co-located worker: it also serves a shard, so it is supervised as a shard is. */
  readonly hostsShard: boolean;
  /** A co-located worker's metrics port, when it serves one (its `port` is its shard's). */
  metricsPort?: number;
  /** The running process (replaced on a restart). */
  process: ChildProcess;
  port?: number;
  restarts: number;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
  /** Its output has ended too (after the exit): nothing more of it will be printed. */
  closed?: Promise<void>;
}

export interface LocalOptions {
  /** Continue the run of the folder (--resume). */
  readonly resume?: boolean;
  /** Record every process's spans into this directory (--trace). */
  readonly trace?: string;
  readonly metricsPortBase?: number;
  /**
   * Worker-k serves shard k (`dptrain worker --shard k`, the co-located layout) instead of
   * psShards separate `dptrain ps` processes; the job must have as many shards as workers.
   */
  readonly colocate?: boolean;
  /** Have the coordinator print a link that admits a browser tab as a worker (--join-link). */
  readonly joinLink?: boolean;
  /**
   * Pin each process, every thread of it, to one CPU (pinnedCores, over the CPUs this process may
   * use) with `taskset`: the same processes then share the same cores in every run.
   */
  readonly pinCpus?: boolean;
}

/** The CPU each process of the cluster is pinned to (pinnedCores over the CPUs this process may use); logged. */
function pinning(config: JobConfig, colocate: boolean, logger: Logger): Map<string, number> {
  checkTaskset();
  const cpus = allowedCpus();
  const plan = new Map([...pinnedCores({ workers: config.workers, psShards: config.psShards, colocate }, cpus.length)].map(([name, i]) => [name, cpus[i]!]));
  logger.info({ cpus: Object.fromEntries(plan) }, `pinned: ${[...plan].map(([name, cpu]) => `${name} on CPU ${cpu}`).join(', ')}`);
  return plan;
}

/** Thrown when the cluster cannot finish; the message names the process and how it ended. */
export class LocalClusterError extends withCode('E_LOCAL_CLUSTER') {}

/**
 * `dptrain local`: the whole cluster as child processes on 127.0.0.1 — one coordinator, psShards
 * parameter servers, `workers` workers — each binding port 0 and announcing its port on stdout.
 * Writes `cluster.json` into the run folder once they are up (again after each restart), shows
 * the coordinator's progress, and exits 0 when training completes.
 *
 * Layouts: by default psShards `dptrain ps` processes; with `colocate`, worker-k also serves shard
 * k (checkClusterConfig's rule: psShards = workers), and no process is a parameter server only.
 *
 * Supervision: a coordinator or shard killed by a signal is restarted with `--resume` on the port
 * it had, so the others reconnect to the same address (a shard restores its checkpoint and
 * write-ahead log; the coordinator its run folder), at most MAX_RESTARTS times each. One that
 * exits with a code chose to (a failed job), so the run stops with its name and status. A dying
 * worker is a fault the cluster survives (its work is re-leased) until no worker is left; a
 * co-located worker holds a shard, so it is restarted as a shard is.
 * SIGINT/SIGTERM stop every child.
 *
 * Metrics: every shard and worker leaves its last values in the run folder, `metrics-<name>.prom`
 * (the coordinator's are `metrics.prom`). With `metricsPortBase`, worker-k serves GET /metrics on
 * port base+k (0: each any free port), and cluster.json lists that port as the worker's.
 */
export async function runLocal(config: JobConfig, logger: Logger, options: LocalOptions = {}): Promise<void> {
  const { resume = false, trace, metricsPortBase, colocate = false, joinLink = false, pinCpus = false } = options;
  checkClusterConfig(config);
  const cpuOf = pinCpus ? pinning(config, colocate, logger) : undefined;
  if (trace) logger.info({ trace }, `recording every process's spans into ${trace} (dptrain trace merge ${trace} makes one timeline)`);
  // The job reaches the children as one file (below), not again through their environment.
  const jobKeysEnv = new Set(FLAGS.flatMap((f) => (f.env ? [f.env] : [])));
  const env = {
    // Nor one DPTRAIN_TRACE file for every child: each is given its own with --trace. Nor one
    // metrics port for every worker: each is given its own with --metrics-port-base.
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !jobKeysEnv.has(name) && name !== 'DPTRAIN_TRACE' && name !== 'DPTRAIN_METRICS_PORT')),
    DPTRAIN_TOKEN: process.env.DPTRAIN_TOKEN ?? randomBytes(24).toString('hex'),
    DPTRAIN_JOB: process.env.DPTRAIN_JOB ?? `local-${process.pid}`,
    DPTRAIN_LOG_LEVEL: process.env.DPTRAIN_LOG_LEVEL ?? 'warn',
    // The children's lines are read here (progress, errors) and shown in this process's format.
    DPTRAIN_LOG_FORMAT: 'json',
  };
  const children: Child[] = [];
  let finished = false;
  let coordinatorUrl = '';
  let failure: ((error: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => (failure = reject));
  failed.catch(() => undefined);
  let coordinatorDone: (() => void) | undefined;
  const coordinatorFinished = new Promise<void>((resolve) => (coordinatorDone = resolve));

  let progress: TrainingProgress | undefined;
  let result: RunResult | undefined;
  const onEvent = (child: Child, event: Record<string, unknown>): void => {
    if (event.event === 'listening') {
      // A co-located worker announces its shard's port and maybe a metrics port: the shard's is
      // the one a restart must keep, and the one that says the process serves.
      if (child.hostsShard && event.role !== 'ps') {
        child.metricsPort = event.port as number;
        return;
      }
      child.port = event.port as number;
      child.process.emit('listening', child.port);
      // A worker's port is its metrics port, announced once TensorFlow.js has loaded.
      if (child.role === 'worker') writeClusterFile().catch((error: unknown) => logger.warn({ error: String(error) }, 'could not write cluster.json'));
    }
    if (event.event === 'step') progress?.step({ step: event.step as number, epoch: event.epoch as number, loss: event.loss as number });
    if (event.event === 'eval') progress?.eval(event as unknown as EvalEvent);
    // After the coordinator's 'done' the others exit on its shutdown: not a failure.
    // The coordinator's own log lines are warnings only here: its join link is logged by us.
    if (event.event === 'joinLink') logger.info(`join as a worker from a browser tab: ${String(event.url)} (admits workers for an hour)`);
    if (event.event === 'done') {
      finished = true;
      result = event as unknown as RunResult;
    }
  };

  const forwardLog = (child: Child, line: string): void => {
    const record = logFormat() === 'pretty' ? parseLine(line) : undefined;
    const text = record && typeof record.level === 'number' ? prettyLine({ ...record, role: child.name }) : line;
    if (progress) progress.print(text);
    else process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };

  // One write at a time, each whole (readers poll it) and with the ports known when it runs.
  let clusterFile: Promise<void> = Promise.resolve();
  const writeClusterFile = (): Promise<void> =>
    (clusterFile = clusterFile
      .catch(() => undefined)
      .then(() =>
        writeFileAtomic(
          join(config.out, 'cluster.json'),
          `${JSON.stringify({ coordinator: coordinatorUrl, processes: children.map((c) => ({ role: c.role, name: c.name, ...(c.workerId === undefined ? {} : { workerId: c.workerId }), pid: c.process.pid, ports: [c.port, c.metricsPort].filter((p) => p !== undefined), restarts: c.restarts })) }, null, 2)}\n`,
        ),
      ));

  /** `socket`: a descriptor of this process the child gets as its fd 3 (the coordinator's listening socket). */
  const spawnChild = (child: Child, args: readonly string[], socket?: number): void => {
    const stdio: StdioOptions = socket === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', socket];
    const argv = [BIN, child.role, ...args, ...(socket === undefined ? [] : ['--listen-fd', '3'])];
    const cpu = cpuOf?.get(child.name);
    const [command, commandArgs] = cpu === undefined ? [process.execPath, argv] : pinned(cpu, process.execPath, argv);
    // taskset execs node in its own process, so the pid, signals and exit status are node's.
    const proc = spawn(command, commandArgs, { env, stdio });
    child.process = proc;
    child.exited = undefined;
    child.closed = new Promise((resolve) => proc.once('close', () => resolve()));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const event = parseLine(line);
      if (event) onEvent(child, event);
    });
    // The children's logs pass through here, so they neither tear the progress bar nor outlive us.
    createInterface({ input: proc.stderr! }).on('line', (line) => forwardLog(child, line));
    proc.on('exit', (code, signal) => {
      child.exited = { code, signal };
      if (child.role === 'coordinator' && code === 0) coordinatorDone?.();
      if (finished) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (child.role === 'worker' && !child.hostsShard) {
        if (children.some((c) => c.role === 'worker' && !c.exited)) {
          logger.warn({ name: child.name, pid: proc.pid, code, signal }, `${child.name} ${how}; its micro-batches are re-leased to the other workers`);
          return;
        }
        failure?.(new LocalClusterError(`${child.name} (pid ${proc.pid}) ${how} and no worker is left; the run cannot finish`));
        return;
      }
      if (child.role === 'coordinator' && code === 0) return;
      if (signal && child.restarts < MAX_RESTARTS) {
        restart(child, how);
        return;
      }
      const why = signal ? ` (restarted ${child.restarts} times already)` : '';
      failure?.(new LocalClusterError(`${child.name} (pid ${proc.pid}) ${how}${why}; the run cannot finish`));
    });
  };

  const restart = (child: Child, how: string): void => {
    child.restarts++;
    logger.warn(
      { name: child.name, restarts: child.restarts, port: child.port },
      `${child.name} ${how}; restarting it with --resume on port ${child.port} (restart ${child.restarts} of ${MAX_RESTARTS})`,
    );
    const args = [...child.args.filter((_, i, all) => all[i] !== '--port' && all[i - 1] !== '--port'), '--port', String(child.port), '--resume'];
    spawnChild(child, args);
    void listening(child).then(writeClusterFile, () => undefined);
  };

  /**
   * Starts a child. `workerId`: the id a worker asks for; `hostsShard`: a co-located worker, which
   * also serves a shard; `socket`: a descriptor of this process the child gets as its fd 3.
   */
  const start = (
    role: Child['role'],
    name: string,
    given: string[],
    { workerId, hostsShard = false, socket }: { workerId?: number; hostsShard?: boolean; socket?: number } = {},
  ): Child => {
    // A restart keeps the arguments, so a restarted process continues its predecessor's trace file.
    const args = trace ? [...given, '--trace', join(trace, `${name}${TRACE_FILE_SUFFIX}`)] : given;
    const child: Child = {
      role,
      name,
      args,
      ...(workerId === undefined ? {} : { workerId }),
      hostsShard,
      restarts: 0,
      process: undefined as unknown as ChildProcess,
    };
    children.push(child);
    spawnChild(child, args, socket);
    return child;
  };
  const listening = (child: Child): Promise<number> =>
    Promise.race([failed, new Promise<number>((resolve) => child.process.once('listening', (port: number) => resolve(port)))]);

  const stopAll = (signal: NodeJS.Signals): void => {
    for (const c of children) if (!c.exited) c.process.kill(signal);
  };
  // One Ctrl-C stops every child (SIGTERM, SIGKILL after CHILD_STOP_MS) and ends the run with
  // Interrupted once they are gone; a second one kills them at once.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      stopAll('SIGKILL');
      return;
    }
    interrupted = true;
    finished = true;
    progress?.stop();
    logger.warn(`${signal}: stopping every process of the cluster`);
    stopAll('SIGTERM');
    failure?.(new Interrupted(signal, `stopped every process of the cluster; the run folder ${config.out} keeps what was done`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // The coordinator gets the job resolved here (every default filled in, the run folder named) as
  // a file its --config parses with the same schema: one resolution, not two that could differ.
  const jobDir = await mkdtemp(join(tmpdir(), 'dptrain-local-'));
  try {
    const jobFile = join(jobDir, 'job.json');
    await writeFile(jobFile, `${JSON.stringify(config)}\n`);
    // The coordinator's port is bound here and its socket handed over, so the shards and workers
    // start at once: they connect while it loads TensorFlow.js and the data set (the kernel holds
    // their connections in the socket's backlog), instead of starting after it. A restarted
    // coordinator binds the same port itself.
    const socket = await listenOnLoopback();
    const port = (socket.address() as AddressInfo).port;
    const coordinator = start(
      'coordinator',
      'coordinator',
      // --resume: this process has claimed the run folder already (new, forced or resumed), and the
      // shards and workers may be writing their --trace files into it by the time the coordinator
      // looks; the coordinator continues a run the folder holds and starts one where it holds none.
      ['--config', jobFile, '--resume', ...(joinLink ? ['--join-link'] : []), '--host', '127.0.0.1', '--port', String(port)],
      { socket: descriptorOf(socket) },
    );
    // The child holds its own copy now; this process must accept nothing on it.
    socket.close();
    coordinator.port = port;
    coordinatorUrl = `ws://127.0.0.1:${port}/`;
    // Named on the command line so a restarted shard finds its checkpoints before it hears the job.
    const checkpointDir = config.checkpointDir ?? join(config.out, 'checkpoints');
    const shardArgs = (s: number): string[] => [
      '--shard',
      String(s),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--checkpoint-dir',
      checkpointDir,
      ...(resume ? ['--resume'] : []),
    ];
    const shards = colocate
      ? []
      : Array.from({ length: config.psShards }, (_, s) =>
          start('ps', `ps-${s}`, [
            '--coordinator',
            coordinatorUrl,
            ...shardArgs(s),
            '--name',
            `ps-${s}`,
            '--metrics-file',
            join(config.out, `metrics-ps-${s}.prom`),
          ]),
        );
    const workerMetricsArgs = (k: number): string[] => [
      '--metrics-file',
      join(config.out, `metrics-worker-${k}.prom`),
      ...(metricsPortBase === undefined ? [] : ['--metrics-host', '127.0.0.1', '--metrics-port', String(metricsPortBase === 0 ? 0 : metricsPortBase + k)]),
    ];
    // worker-k asks for id k: workers register in whatever order they start up, and the name in
    // cluster.json and the logs must be the id in summary.json and /status.
    const workers = Array.from({ length: config.workers }, (_, k) =>
      start(
        'worker',
        `worker-${k}`,
        [
          '--coordinator',
          coordinatorUrl,
          '--backend',
          config.backend,
          '--name',
          `worker-${k}`,
          '--worker-id',
          String(k),
          ...workerMetricsArgs(k),
          ...(colocate ? shardArgs(k) : []),
        ],
        { workerId: k, hostsShard: colocate },
      ),
    );
    // The workers start while the shards load: the coordinator holds a worker's registration until
    // every shard is ready, and the two start-ups (TensorFlow.js, the data set) overlap.
    await Promise.all((colocate ? workers : shards).map((c) => listening(c)));
    await makeDirectory(config.out);
    await writeClusterFile();
    logger.info(
      { coordinator: coordinatorUrl, shards: config.psShards, workers: workers.length, colocate },
      `cluster up: coordinator ${coordinatorUrl}, ${config.psShards} shard(s)${colocate ? ' served by the workers' : ''}, ${workers.length} worker(s); dashboard ${dashboardUrl(coordinatorUrl, env.DPTRAIN_TOKEN)}`,
    );
    const plan = await fetchStatus<{ totalSteps: number; stepsPerEpoch: number }>(coordinatorUrl, env.DPTRAIN_TOKEN).catch(() => undefined);
    if (plan) progress = new TrainingProgress('local', { ...plan, batchSize: config.batchSize });
    await Promise.race([coordinatorFinished, failed]);
    finished = true;
    await waitForExit(children, CHILD_STOP_MS);
    if (result) progress?.finish(result);
    else progress?.stop();
    logger.info({ out: config.out }, `training finished; run folder ${config.out}`);
  } catch (error) {
    finished = true;
    progress?.stop();
    stopAll('SIGTERM');
    await waitForExit(children, CHILD_STOP_MS);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(jobDir, { recursive: true, force: true });
  }
}

/** A TCP socket listening on 127.0.0.1 at a free port. */
function listenOnLoopback(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

/** The OS descriptor of a listening server, to pass to a child (Node exposes it only on its handle). */
function descriptorOf(server: Server): number {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new LocalClusterError("cannot hand the coordinator's socket over on this platform (no descriptor)");
  return fd;
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for every child to exit, and its output to end, after the coordinator's shutdown (or a
 * SIGTERM); SIGKILLs the ones still running after `timeoutMs`.
 */
async function waitForExit(children: readonly Child[], timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => {
    for (const c of children) if (!c.exited) c.process.kill('SIGKILL');
  }, timeoutMs);
  await Promise.all(children.map((c) => c.closed));
  clearTimeout(timer);
}
