import { ProtocolError, type Connection, type JsonValue, type MessageOf } from '@dptrain/protocol';
import { type Logger } from '@dptrain/log';
import type { JobDescription } from '@dptrain/job';
import { JobState } from '../lifecycle.js';
import type { JobRun } from './job-run.js';
import { jobOnWire } from './wire-job.js';

export interface ShardRegistryParts {
  readonly job: JobDescription;
  readonly paramCount: number;
  readonly run: JobRun;
  /** The lowest step not yet complete. */
  readonly step: () => number;
  /** A shard registering at `version` has lost steps the job already closed (the lease policy says). */
  readonly lostSteps: (version: number) => boolean;
  /** A shard was lost: revoke every running lease, giving `reason`. */
  readonly revokeAll: (reason: string) => void;
  readonly log: Logger;
}

/**
 * The parameter-server shards: their connections, the URLs workers pull from, the versions they
 * report, and their loss and return. A lost shard pauses the job (Recovering) for
 * `shardRestartTimeoutMs`; the coordinator resumes once every shard is ready again.
 */
export class ShardRegistry {
  private readonly shards: (Connection | undefined)[];
  /** Each ready shard's URL (undefined until it says ready, and again once it is lost). */
  readonly urls: (string | undefined)[];
  readonly versions: number[];
  /** Shards that registered at least once (a later registration is a restart). */
  private readonly seen = new Set<number>();
  private restartTimer: NodeJS.Timeout | undefined;
  private lastReports: JsonValue[] = [];

  constructor(private readonly parts: ShardRegistryParts) {
    const S = parts.job.config.psShards;
    this.shards = new Array<Connection | undefined>(S).fill(undefined);
    this.urls = new Array<string | undefined>(S).fill(undefined);
    this.versions = new Array<number>(S).fill(0);
  }

  /** Each shard's last status report (counters; async: the staleness histogram). */
  get reports(): JsonValue[] {
    return this.lastReports;
  }

  register(connection: Connection, msg: MessageOf<'register'>): void {
    const S = this.shards.length;
    if (msg.shard === undefined || msg.shard >= S) {
      throw new ProtocolError(
        'E_RANGE',
        `register.shard ${msg.shard} is not a shard index of this job (0..${S - 1}); start the shard with --shard between 0 and ${S - 1}`,
        { ref: msg.seq },
      );
    }
    if (this.shards[msg.shard]?.isOpen) {
      throw new ProtocolError('E_RANGE', `shard ${msg.shard} is already registered; give each parameter server its own --shard`, { ref: msg.seq });
    }
    const version = msg.version ?? 0;
    if (this.parts.lostSteps(version)) {
      const error = new ProtocolError(
        'E_STALE',
        `shard ${msg.shard} registered at version ${version}, but step ${this.parts.step() - 1} was already applied everywhere; its checkpoint directory lost steps (restart it with --resume and its checkpoint directory intact)`,
        { ref: msg.seq },
      );
      this.parts.run.fail(error);
      throw error;
    }
    this.shards[msg.shard] = connection;
    this.versions[msg.shard] = version;
    if (this.seen.has(msg.shard)) {
      this.parts.run.record('shard-restarted', { name: `ps-${msg.shard}` }, `shard ${msg.shard} registered again at version ${version}`);
      this.parts.log({ level: 'info', event: 'shard-registered-again', shard: msg.shard, version });
    }
    this.seen.add(msg.shard);
    void connection.reply(msg, { type: 'registered', workerId: msg.shard, generation: 0, config: jobOnWire(this.parts.job) });
  }

  /** Records the shard's URL; returns whether every shard is ready now. */
  ready(connection: Connection, msg: MessageOf<'shardReady'>): boolean {
    if (this.shards[msg.shard] !== connection) {
      throw new ProtocolError('E_RANGE', `shardReady.shard ${msg.shard} does not match the shard this connection registered as`, { ref: msg.seq });
    }
    this.urls[msg.shard] = msg.url;
    this.parts.log({ level: 'info', event: 'shard-ready', shard: msg.shard, url: msg.url });
    return this.allReady();
  }

  allReady(): boolean {
    return this.urls.every((u) => u !== undefined);
  }

  /** The URLs a worker's `registered` carries (every shard is ready when it is sent). */
  readyUrls(): string[] {
    return this.urls as string[];
  }

  /** Shards not ready (never said so, or lost). */
  missing(): number[] {
    return this.urls.map((u, i) => (u === undefined ? i : -1)).filter((i) => i >= 0);
  }

  /** The shard index of `connection`, or -1. */
  indexOf(connection: Connection): number {
    return this.shards.indexOf(connection);
  }

  /**
   * The shard that sent `msg`.
   * @throws ProtocolError E_ROLE when the connection is not a registered shard
   */
  sender(connection: Connection, msg: MessageOf<'stepApplied' | 'stepRefused'>): number {
    const s = this.shards.indexOf(connection);
    if (s < 0) throw new ProtocolError('E_ROLE', `${msg.type} from a connection that is not a registered shard; register with shard first`, { ref: msg.seq });
    return s;
  }

  /** Why the job ends when a shard refuses a step (its sum or result is not finite). */
  refusal(connection: Connection, msg: MessageOf<'stepRefused'>): ProtocolError {
    const s = this.sender(connection, msg);
    return new ProtocolError(
      'E_NON_FINITE',
      `parameter-server shard ${s} refused step ${msg.step} (version ${msg.version}): ${msg.reason}; the job cannot go on: lower --lr, clip with --clip-norm, or bound pushes with --max-grad-norm`,
    );
  }

  reportVersion(shard: number, version: number): void {
    this.versions[shard] = Math.max(this.versions[shard], version);
  }

  minVersion(): number {
    return Math.min(...this.versions);
  }

  /**
   * A shard's connection closed. Its slice lives on only in its checkpoint and write-ahead log, so
   * leasing stops and every running lease is revoked (their pulls and pushes involve the lost
   * shard); the job waits `shardRestartTimeoutMs` for the shard to register again.
   */
  lost(shard: number, why: string): void {
    const { run, log } = this.parts;
    this.urls[shard] = undefined;
    if (run.state === JobState.Waiting) return;
    if (run.state === JobState.Finishing) {
      run.fail(new ProtocolError('E_CLOSED', `parameter-server shard ${shard} disconnected (${why}) during the final evaluation; rerun the job`));
      return;
    }
    if (run.state !== JobState.Training && run.state !== JobState.Recovering) return;
    if (run.state === JobState.Training) run.to(JobState.Recovering);
    const waitMs = this.parts.job.config.shardRestartTimeoutMs;
    run.record('shard-lost', { name: `ps-${shard}` }, `connection closed (${why}); leases revoked, waiting up to ${waitMs} ms for it to register again`);
    log({
      level: 'warn',
      event: 'shard-lost',
      shard,
      message: `parameter-server shard ${shard} lost (${why}); waiting up to ${waitMs} ms for it to come back (dptrain ps --shard ${shard} --resume)`,
    });
    this.parts.revokeAll(`parameter-server shard ${shard} was lost; the step is leased again once it is back`);
    this.restartTimer ??= setTimeout(() => {
      run.fail(
        new ProtocolError(
          'E_CLOSED',
          `parameter-server shard(s) ${this.missing().join(', ')} did not come back within ${waitMs} ms; restart each with \`dptrain ps --shard N --resume\` (dptrain local does this by itself), or raise --shard-restart-timeout-ms`,
        ),
      );
    }, waitMs);
    this.restartTimer.unref();
  }

  /** Every lost shard is back. */
  recovered(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /** Asks every shard for its status report and keeps the answers (`reports`). */
  async refreshStatus(): Promise<JsonValue[]> {
    const reports = await Promise.all(
      this.shards.map((s) =>
        s?.isOpen
          ? s.request({ type: 'status' }, { timeoutMs: 10_000 }).then(
              (r) => r.detail,
              () => null,
            )
          : null,
      ),
    );
    this.lastReports = reports;
    return reports;
  }

  /** The parameters and running statistics at `at`, assembled from every shard. */
  async pull(at: { step: number } | { minVersion: number }): Promise<{ params: Float32Array; bnState: Float32Array | undefined }> {
    const params = new Float32Array(this.parts.paramCount);
    let bnState: Float32Array | undefined;
    const replies = await Promise.all(
      this.shards.map((s, i) => {
        if (!s?.isOpen) throw new ProtocolError('E_CLOSED', `parameter-server shard ${i} is gone; the job cannot finish without its parameters`);
        return s.request({ type: 'pull', ...at, raw: true }, { timeoutMs: 600_000 });
      }),
    );
    for (const reply of replies) {
      params.set(reply.values, reply.offset);
      if (reply.bnState) bnState = reply.bnState.slice();
    }
    return { params, bnState };
  }

  connections(): Connection[] {
    return this.shards.filter((s): s is Connection => s !== undefined);
  }

  stop(): void {
    clearTimeout(this.restartTimer);
  }
}
