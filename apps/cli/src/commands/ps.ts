import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LeaseTickets, ParameterServer, parseFaultInjection, type JobDescription } from '@dptrain/cluster';
import { connect, createServer, reconnecting, resolveToken, type Connection, type ProtocolServer } from '@dptrain/protocol';
import { announce, jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import { clientCa, serverTls } from '../cluster/tls-files.js';
import type { Logger } from '../logger.js';

export interface PsOptions {
  readonly coordinator: string;
  readonly shard: number;
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** Restore from the newest valid checkpoint and write-ahead log before serving. */
  readonly resume: boolean;
  /** Root of the shards' checkpoint directories; default the job's checkpointDir, else <out>/checkpoints. */
  readonly checkpointDir?: string;
  /** PEM files: serve workers wss:// (cert and key), trust a wss:// coordinator (ca). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
}

/**
 * Where a shard started on this machine notes its checkpoint directory, so that `--resume` without
 * `--checkpoint-dir` (as `dptrain local` restarts a dead shard) finds its job before registering.
 */
function resumeNote(shard: number): string {
  return join(tmpdir(), `dptrain-${jobId().replace(/[^\w.-]/g, '_')}-shard-${shard}.dir`);
}

async function resumeDir(options: PsOptions): Promise<string> {
  if (options.checkpointDir) return join(options.checkpointDir, `shard-${options.shard}`);
  try {
    return (await readFile(resumeNote(options.shard), 'utf8')).trim();
  } catch {
    throw new Error(
      `cannot resume shard ${options.shard}: no --checkpoint-dir was given and no earlier start of this shard with job id ${jobId()} on this machine noted one (${resumeNote(options.shard)}); give --checkpoint-dir the job's checkpoint directory (checkpointDir, default <out>/checkpoints)`,
    );
  }
}

/**
 * `dptrain ps`: one parameter-server shard. Registers with the coordinator (which sends the job),
 * listens for workers, announces its URL, and serves until the coordinator says shutdown. With
 * `--resume` it first restores its state from its checkpoint directory and registers at the
 * restored version. A coordinator connection lost without a shutdown is re-established for up to
 * the job's shardRestartTimeoutMs: register again, shardReady, and the recent stepApplied reports.
 */
export async function runPs(options: PsOptions, logger: Logger): Promise<void> {
  const log = protocolLog(logger);
  const fault = parseFaultInjection(process.env.DPTRAIN_FAULT, options.name);
  const tickets = new LeaseTickets(resolveToken(undefined), jobId());
  const tls = serverTls(options.tlsCert, options.tlsKey);
  const ca = clientCa(options.tlsCa);
  let coordinator: Connection | undefined;
  let server: ProtocolServer | undefined;
  let ps: ParameterServer | undefined;

  const open = async (job: JobDescription, dir: string, resume: boolean): Promise<ParameterServer> => {
    const { checkpointEvery, checkpointKeep } = job.config;
    const shard = await ParameterServer.open({
      job,
      shard: options.shard,
      log,
      onApplied: (applied) => void coordinator?.send({ type: 'stepApplied', ...applied }),
      onRefused: (refusal) => void coordinator?.send({ type: 'stepRefused', ...refusal }),
      tickets,
      onFatal: (error) => {
        logger.fatal({ shard: options.shard }, error.message);
        process.exit(1);
      },
      durability: { dir, every: checkpointEvery, keep: checkpointKeep, resume, ...(fault.stallCheckpointStep !== undefined ? { stallCheckpointStep: fault.stallCheckpointStep } : {}) },
    });
    await writeFile(resumeNote(options.shard), resolve(dir));
    return shard;
  };

  if (options.resume) {
    const dir = await resumeDir(options).catch(() => undefined);
    // Nothing saved yet (the first start of a shard a supervisor always starts with --resume): start fresh.
    if (dir === undefined || !existsSync(join(dir, 'job.json'))) {
      logger.warn({ shard: options.shard, dir: dir ?? null }, `shard ${options.shard}: nothing to resume${dir ? ` in ${dir}` : ''} (no job.json); starting from the job's initial state`);
    } else {
      ps = await open(await ParameterServer.savedJob(dir), dir, true);
      logger.info({ shard: options.shard, version: ps.version, dir }, `shard ${options.shard} restored at version ${ps.version} from ${dir}`);
    }
  }

  /** One coordinator session: connect, register, serve; resolves with how it ended. */
  const session = async (connectOptions: Parameters<typeof reconnecting>[1]): Promise<{ shutdown: boolean; reason: string }> => {
    const { connection, registered } = await reconnecting(async () => {
      const c = await connect(options.coordinator, { role: 'ps', jobId: jobId(), name: options.name, expectRole: 'coordinator', log, ...ca });
      try {
        return { connection: c, registered: await c.request({ type: 'register', name: options.name, pid: process.pid, backend: 'none', shard: options.shard, version: ps?.version ?? 0 }, { timeoutMs: 600_000 }) };
      } catch (error) {
        c.close(1000, 'register failed');
        throw error;
      }
    }, connectOptions);
    const job = registered.config as unknown as JobDescription;
    if (!ps) ps = await open(job, ParameterServer.checkpointDirOf(job, options.shard, options.checkpointDir), false);
    else if (!ps.runs(job)) {
      connection.close(1000, 'another job');
      throw new Error(`the coordinator at ${options.coordinator} runs another job than shard ${options.shard}'s checkpoints (config, model or sharding differ); start this shard without --resume, or the coordinator with the job's original config`);
    }
    coordinator = connection;
    ps.attach(connection);
    if (!server) {
      server = await createServer({
        jobId: jobId(),
        role: 'ps',
        name: options.name,
        host: options.host,
        port: options.port,
        acceptRoles: ['worker', 'coordinator', 'client'],
        validateOptions: ps.validateOptions(ps.paramCount),
        onConnection: (c) => ps!.attach(c),
        log,
        ...(tls ? { tls } : {}),
      });
      logger.info({ shard: options.shard, offset: ps.range.offset, length: ps.range.length, url: server.url, version: ps.version }, `parameter-server shard ${options.shard} listening on ${server.url}`);
      announce('listening', { role: 'ps', shard: options.shard, port: server.port });
    }
    await connection.send({ type: 'shardReady', shard: options.shard, url: server.url });
    // The coordinator may have missed these (it restarted, or this shard died before sending them).
    for (const applied of ps.recentApplied()) await connection.send({ type: 'stepApplied', ...applied });
    return new Promise((done) => {
      connection.on('message', (msg) => msg.type === 'shutdown' && done({ shutdown: true, reason: msg.reason }));
      connection.once('close', (code, why) => done({ shutdown: false, reason: `coordinator connection closed (${code} ${why})` }));
    });
  };

  let ended = await session({ maxAttempts: 20, onRetry: ({ attempt, delayMs, error }) => logger.warn({ attempt, delayMs, code: error.code }, `coordinator not reachable yet; retrying in ${delayMs} ms`) });
  while (!ended.shutdown) {
    const timeoutMs = ps!.job.config.shardRestartTimeoutMs;
    const started = Date.now();
    let attempts = 1;
    logger.warn({ reason: ended.reason, version: ps!.version, timeoutMs }, `${ended.reason} without a shutdown; reconnecting to ${options.coordinator} for up to ${timeoutMs} ms`);
    try {
      ended = await session({
        initialMs: 100,
        maxMs: 2_000,
        signal: AbortSignal.timeout(timeoutMs),
        onRetry: ({ attempt, delayMs, error }) => {
          attempts = attempt + 1;
          logger.warn({ attempt, delayMs, code: error.code }, `coordinator ${options.coordinator} not reachable; retrying in ${delayMs} ms`);
        },
      });
    } catch (error) {
      await ps!.close();
      await server?.close();
      const waited = Date.now() - started;
      throw new Error(
        `lost the coordinator ${options.coordinator} and could not register again within shardRestartTimeoutMs ${timeoutMs} ms (${attempts} attempt(s) over ${waited} ms; last error: ${(error as Error).message}); restart the coordinator with --resume, then this shard with --resume`,
        { cause: error },
      );
    }
  }
  logger.info({ reason: ended.reason, version: ps!.version, ...ps!.counters }, `shard ${options.shard} stopping: ${ended.reason}`);
  await ps!.finish();
  await ps!.close();
  await rm(resumeNote(options.shard), { force: true });
  coordinator?.close(1000, 'shard done');
  await server?.close();
}
