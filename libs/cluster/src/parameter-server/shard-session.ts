import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { reconnecting, type Connection, type ProtocolServer, type ReconnectOptions, type ValidateOptions } from '@dptrain/protocol';
import { silentLogger, type Logger, type Spans } from '@dptrain/log';
import type { FaultInjection } from '../fault-injection.js';
import { parseJobDescription, type JobDescription } from '@dptrain/job';
import { withCode } from '@dptrain/errors';
import type { LeaseTickets } from '../lease-ticket.js';
import { ParameterServer } from './parameter-server.js';

/** A shard that cannot (or can no longer) serve its job: the message names the cause and the restart to make. */
export class ShardSessionError extends withCode('E_SHARD_SESSION') {}

export interface ShardSessionOptions {
  /** This shard's index, 0..psShards−1. */
  readonly shard: number;
  readonly name: string;
  /** The coordinator's URL, as messages name it. */
  readonly coordinator: string;
  /** Opens a connection to the coordinator (one attempt; the session retries with back-off). */
  readonly connectCoordinator: () => Promise<Connection>;
  /**
   * Starts the server workers connect to, once the shard exists (after its first registration):
   * each connection's frames are checked with `validateOptions` and the connection is served by `serve`.
   */
  readonly listen: (validateOptions: ValidateOptions, serve: (connection: Connection) => void) => Promise<Pick<ProtocolServer, 'url' | 'port' | 'close'>>;
  /** Restore from the newest valid checkpoint and write-ahead log in `resumeDir` before registering. */
  readonly resume: boolean;
  /** The shard's own directory to resume from; when unknown or without job.json, the shard starts from the job's initial state. */
  readonly resumeDir?: string;
  /** Root of the shards' checkpoint directories. @default the job's checkpointDir, else <out>/checkpoints */
  readonly checkpointDir?: string;
  /** @default no ticket check */
  readonly tickets?: LeaseTickets;
  /** Faults to inject into this shard (DPTRAIN_FAULT, for the chaos suite). @default none */
  readonly fault?: FaultInjection;
  /** Called with the shard's directory once it is durable there (a restart with --resume looks for it). */
  readonly onDurable?: (dir: string) => Promise<void>;
  /** The shard must stop (its write-ahead log failed after an update was served). @default throws it as an uncaught exception */
  readonly onFatal?: (error: Error) => void;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Where the shard's spans go (metrics, trace), whichever ParameterServer it opens. @default noSpans */
  readonly spans?: Spans;
}

/** How a shard's session ended, for logs and tests. */
export interface ShardSessionReport {
  readonly reason: string;
  readonly version: number;
  readonly counters: ParameterServer['counters'];
}

interface Ended {
  readonly shutdown: boolean;
  readonly reason: string;
}

/**
 * A parameter-server shard's life with its coordinator: registers (the coordinator sends the
 * job), listens for workers, and serves until the coordinator says shutdown. With `resume` it
 * first restores its state and registers at the restored version. A coordinator connection lost
 * without a shutdown is re-established for up to the job's shardRestartTimeoutMs: register again,
 * shardReady, and the recent stepApplied reports.
 */
export class ShardSession {
  private readonly log: Logger;
  private coordinator: Connection | undefined;
  private server: Pick<ProtocolServer, 'url' | 'port' | 'close'> | undefined;
  private ps: ParameterServer | undefined;

  constructor(private readonly options: ShardSessionOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** The shard's status report (the coordinator's GET /status shows it), once the shard exists. */
  status(): ReturnType<ParameterServer['status']> | undefined {
    return this.ps?.status();
  }

  /**
   * Runs until the coordinator says shutdown; then a final checkpoint replaces the write-ahead log.
   * @throws Error when the coordinator cannot be reached again within shardRestartTimeoutMs, or runs another job
   */
  async run(): Promise<ShardSessionReport> {
    const { shard, coordinator } = this.options;
    if (this.options.resume) await this.restore();
    let ended = await this.session({
      maxAttempts: 20,
      onRetry: ({ attempt, delayMs, error }) =>
        this.log({
          level: 'warn',
          event: 'coordinator-retry',
          attempt,
          delayMs,
          code: error.code,
          message: `coordinator not reachable yet; retrying in ${delayMs} ms`,
        }),
    });
    while (!ended.shutdown) {
      const timeoutMs = this.ps!.job.config.shardRestartTimeoutMs;
      const started = Date.now();
      let attempts = 1;
      this.log({
        level: 'warn',
        event: 'coordinator-lost',
        reason: ended.reason,
        version: this.ps!.version,
        timeoutMs,
        message: `${ended.reason} without a shutdown; reconnecting to ${coordinator} for up to ${timeoutMs} ms`,
      });
      try {
        ended = await this.session({
          initialMs: 100,
          maxMs: 2_000,
          signal: AbortSignal.timeout(timeoutMs),
          onRetry: ({ attempt, delayMs, error }) => {
            attempts = attempt + 1;
            this.log({
              level: 'warn',
              event: 'coordinator-retry',
              attempt,
              delayMs,
              code: error.code,
              message: `coordinator ${coordinator} not reachable; retrying in ${delayMs} ms`,
            });
          },
        });
      } catch (error) {
        await this.ps!.close();
        await this.server?.close();
        const waited = Date.now() - started;
        throw new ShardSessionError(
          `lost the coordinator ${coordinator} and could not register again within shardRestartTimeoutMs ${timeoutMs} ms (${attempts} attempt(s) over ${waited} ms; last error: ${(error as Error).message}); restart the coordinator with --resume, then this shard with --resume`,
          { cause: error },
        );
      }
    }
    const ps = this.ps!;
    const report = { reason: ended.reason, version: ps.version, counters: { ...ps.counters } };
    this.log({
      level: 'info',
      event: 'shard-stopping',
      reason: ended.reason,
      version: ps.version,
      ...ps.counters,
      message: `shard ${shard} stopping: ${ended.reason}`,
    });
    await ps.finish();
    await ps.close();
    this.coordinator?.close(1000, 'shard done');
    await this.server?.close();
    return report;
  }

  /** Restores from `resumeDir`; nothing saved yet (the first start of a shard a supervisor always starts with --resume) starts fresh. */
  private async restore(): Promise<void> {
    const { shard, resumeDir: dir } = this.options;
    if (dir === undefined || !existsSync(join(dir, 'job.json'))) {
      this.log({
        level: 'warn',
        event: 'nothing-to-resume',
        shard,
        dir: dir ?? null,
        message: `shard ${shard}: nothing to resume${dir ? ` in ${dir}` : ''} (no job.json); starting from the job's initial state`,
      });
      return;
    }
    this.ps = await this.open(await ParameterServer.savedJob(dir), dir, true);
    this.log({
      level: 'info',
      event: 'shard-resumed',
      shard,
      version: this.ps.version,
      dir,
      message: `shard ${shard} restored at version ${this.ps.version} from ${dir}`,
    });
  }

  private async open(job: JobDescription, dir: string, resume: boolean): Promise<ParameterServer> {
    const { checkpointEvery, checkpointKeep } = job.config;
    const { shard, tickets, fault, onFatal, spans } = this.options;
    const stall = fault?.stallCheckpointStep;
    const ps = await ParameterServer.open({
      job,
      shard,
      log: this.log,
      onApplied: (applied) => void this.coordinator?.send({ type: 'stepApplied', ...applied }),
      onRefused: (refusal) => void this.coordinator?.send({ type: 'stepRefused', ...refusal }),
      ...(tickets ? { tickets } : {}),
      ...(onFatal ? { onFatal } : {}),
      ...(spans ? { spans } : {}),
      durability: { dir, every: checkpointEvery, keep: checkpointKeep, resume, ...(stall !== undefined ? { stallCheckpointStep: stall } : {}) },
    });
    await this.options.onDurable?.(dir);
    return ps;
  }

  /** One coordinator session: connect, register, serve; resolves with how it ended. */
  private async session(reconnect: ReconnectOptions): Promise<Ended> {
    const { shard, name } = this.options;
    const { connection, registered } = await reconnecting(async () => {
      const c = await this.options.connectCoordinator();
      try {
        return {
          connection: c,
          registered: await c.request(
            { type: 'register', name, pid: process.pid, backend: 'none', shard, version: this.ps?.version ?? 0 },
            { timeoutMs: 600_000 },
          ),
        };
      } catch (error) {
        c.close(1000, 'register failed');
        throw error;
      }
    }, reconnect);
    const job = parseJobDescription(registered.config);
    if (!this.ps) this.ps = await this.open(job, ParameterServer.checkpointDirOf(job, shard, this.options.checkpointDir), false);
    else if (!this.ps.runs(job)) {
      connection.close(1000, 'another job');
      throw new ShardSessionError(
        `the coordinator at ${this.options.coordinator} runs another job than shard ${shard}'s checkpoints (config, model or sharding differ); start this shard without --resume, or the coordinator with the job's original config`,
      );
    }
    const ps = this.ps;
    this.coordinator = connection;
    ps.attach(connection);
    if (!this.server) {
      this.server = await this.options.listen(ps.validateOptions(ps.paramCount), (c) => ps.attach(c));
      this.log({
        level: 'info',
        event: 'shard-listening',
        shard,
        offset: ps.range.offset,
        length: ps.range.length,
        url: this.server.url,
        version: ps.version,
        message: `parameter-server shard ${shard} listening on ${this.server.url}`,
      });
    }
    await connection.send({ type: 'shardReady', shard, url: this.server.url });
    // The coordinator may have missed these (it restarted, or this shard died before sending them).
    for (const applied of ps.recentApplied()) await connection.send({ type: 'stepApplied', ...applied });
    return new Promise((done) => {
      connection.on('message', (msg) => msg.type === 'shutdown' && done({ shutdown: true, reason: msg.reason }));
      connection.once('close', (code, why) => done({ shutdown: false, reason: `coordinator connection closed (${code} ${why})` }));
    });
  }
}
