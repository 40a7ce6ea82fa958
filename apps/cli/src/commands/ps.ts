import { ParameterServer, type JobDescription } from '@dptrain/cluster';
import { connect, createServer, reconnecting } from '@dptrain/protocol';
import { announce, jobId } from '../cluster/announce.js';
import { protocolLog } from '../cluster/protocol-log.js';
import type { Logger } from '../logger.js';

export interface PsOptions {
  readonly coordinator: string;
  readonly shard: number;
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** Restore from the newest valid checkpoint and write-ahead log before serving. */
  readonly resume: boolean;
}

/**
 * `dptrain ps`: one parameter-server shard. Registers with the coordinator (which sends the job),
 * listens for workers, announces its URL, and serves until the coordinator says shutdown.
 */
export async function runPs(options: PsOptions, logger: Logger): Promise<void> {
  const log = protocolLog(logger);
  const coordinator = await reconnecting(() => connect(options.coordinator, { role: 'ps', jobId: jobId(), name: options.name, expectRole: 'coordinator', log }), {
    maxAttempts: 20,
    onRetry: ({ attempt, delayMs, error }) => logger.warn({ attempt, delayMs, code: error.code }, `coordinator not reachable yet; retrying in ${delayMs} ms`),
  });
  const registered = await coordinator.request({ type: 'register', name: options.name, pid: process.pid, backend: 'none', shard: options.shard }, { timeoutMs: 600_000 });
  const job = registered.config as unknown as JobDescription;
  const ps = new ParameterServer({
    job,
    shard: options.shard,
    log,
    onApplied: (applied) => void coordinator.send({ type: 'stepApplied', ...applied }),
  });
  const server = await createServer({
    jobId: jobId(),
    role: 'ps',
    name: options.name,
    host: options.host,
    port: options.port,
    acceptRoles: ['worker', 'coordinator', 'client'],
    validateOptions: ps.validateOptions(ps.paramCount),
    onConnection: (connection) => ps.attach(connection),
    log,
  });
  ps.attach(coordinator);
  logger.info({ shard: options.shard, offset: ps.range.offset, length: ps.range.length, url: server.url }, `parameter-server shard ${options.shard} listening on ${server.url}`);
  announce('listening', { role: 'ps', shard: options.shard, port: server.port });
  await coordinator.send({ type: 'shardReady', shard: options.shard, url: server.url });
  const reason = await new Promise<string>((resolve) => {
    coordinator.on('message', (msg) => msg.type === 'shutdown' && resolve(msg.reason));
    coordinator.once('close', (code, why) => resolve(`coordinator connection closed (${code} ${why})`));
  });
  logger.info({ reason, version: ps.version, ...ps.counters }, `shard ${options.shard} stopping: ${reason}`);
  coordinator.close(1000, 'shard done');
  await server.close();
}
