import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LeaseTickets, ShardSession, parseFaultInjection } from '@dptrain/cluster';
import { ConfigError } from '@dptrain/config';
import { fanOut } from '@dptrain/log';
import { connect, createServer, resolveToken, type Connection, type ValidateOptions } from '@dptrain/protocol';
import { writeFileAtomic } from '@dptrain/safetensors';
import { announce, jobId } from '../cluster/announce.js';
import { metricsRoute, webSocketOnly } from '../cluster/metrics-http.js';
import { protocolLog } from '../cluster/protocol-log.js';
import { withProcessMetrics } from '../cluster/scraped-metrics.js';
import { shardMetrics, type ShardStatusView } from '../cluster/shard-metrics.js';
import { clientCa, serverTls } from '../cluster/tls-files.js';
import type { Logger } from '../logger.js';
import { startRoleTrace } from '../observe/role-trace.js';

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
  /** Write the last values of its metrics here when it stops (the process's own left out), as metrics.prom. */
  readonly metricsFile?: string;
  /** Record this process's spans into this file (--trace). */
  readonly trace?: string;
}

/** A shard listening: what a co-located worker's thread needs to serve it a connection without a socket. */
export interface ServingShard {
  /** The URL the shard announced to the coordinator, which hands it to workers. */
  readonly url: string;
  readonly validateOptions: ValidateOptions;
  /** Serves one more connection, as if a worker had connected to `url`. */
  readonly serve: (connection: Connection) => void;
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
    throw new ConfigError(
      'E_CONFIG_VALUE',
      `cannot resume shard ${options.shard}: no --checkpoint-dir was given and no earlier start of this shard with job id ${jobId()} on this machine noted one (${resumeNote(options.shard)}); give --checkpoint-dir the job's checkpoint directory (checkpointDir, default <out>/checkpoints)`,
    );
  }
}

/**
 * `dptrain ps`: one parameter-server shard (ShardSession). Registers with the coordinator (which
 * sends the job), listens for workers, announces its URL, and serves until the coordinator says
 * shutdown. With `--resume` it first restores its state from its checkpoint directory and
 * registers at the restored version; a lost coordinator is reconnected for up to the job's
 * shardRestartTimeoutMs. `onServing` hears of each start of listening (a co-located worker's way in).
 */
export async function runPs(options: PsOptions, logger: Logger, onServing?: (shard: ServingShard) => void): Promise<void> {
  const log = protocolLog(logger);
  const fault = parseFaultInjection(process.env.DPTRAIN_FAULT, options.name);
  const token = resolveToken(undefined);
  const tickets = new LeaseTickets(token, jobId());
  const tls = serverTls(options.tlsCert, options.tlsKey);
  const ca = clientCa(options.tlsCa);
  const trace = options.trace ? await startRoleTrace(options.trace, options.name, logger) : undefined;
  const dir = options.resume ? await resumeDir(options).catch(() => undefined) : undefined;
  // GET /metrics reads the shard's status report, the one the coordinator asks for, at each scrape.
  const metrics = shardMetrics(() => session.status() as unknown as ShardStatusView | undefined);
  const session = new ShardSession({
    shard: options.shard,
    name: options.name,
    coordinator: options.coordinator,
    connectCoordinator: () => connect(options.coordinator, { role: 'ps', jobId: jobId(), name: options.name, expectRole: 'coordinator', log, ...ca }),
    listen: async (validateOptions, serve) => {
      const { host, port, name } = options;
      const server = await createServer({
        jobId: jobId(),
        role: 'ps',
        name,
        host,
        port,
        acceptRoles: ['worker', 'coordinator', 'client'],
        validateOptions,
        onConnection: serve,
        onRequest: metricsRoute(token, withProcessMetrics(metrics.registry), webSocketOnly(name)),
        log,
        ...(tls ? { tls } : {}),
      });
      announce('listening', { role: 'ps', shard: options.shard, port: server.port });
      onServing?.({ url: server.url, validateOptions, serve });
      return server;
    },
    resume: options.resume,
    ...(dir !== undefined ? { resumeDir: dir } : {}),
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir } : {}),
    tickets,
    spans: fanOut(metrics.spans, ...(trace ? [trace.spans] : [])),
    fault,
    onDurable: (shardDir) => writeFile(resumeNote(options.shard), resolve(shardDir)),
    onFatal: (error) => {
      logger.fatal({ shard: options.shard }, error.message);
      process.exit(1);
    },
    log,
  });
  await session.run();
  if (options.metricsFile) await writeFileAtomic(options.metricsFile, await metrics.registry.metrics());
  await trace?.close();
  await rm(resumeNote(options.shard), { force: true });
}
