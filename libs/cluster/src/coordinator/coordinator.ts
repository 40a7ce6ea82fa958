import { ProtocolError, type Connection, type JsonValue, type Message, type MessageOf } from '@dptrain/protocol';
import { noSpans, silentLogger, type Logger } from '@dptrain/log';
import { planSizes, type PlanSizes } from '@dptrain/job';
import { JobState } from '../lifecycle.js';
import type { CoordinatorOptions } from './coordinator-options.js';
import { JobRun } from './job-run.js';
import { LEASE_POLICIES } from './lease-policies.js';
import type { LeasePolicy, PolicyParts } from './lease-policy.js';
import { LeaseSamples, checkSampleWorker } from './lease-samples.js';
import { Leases } from './leases.js';
import { Membership } from './membership.js';
import { Refusals } from './refusals.js';
import { checkResumable } from './resume-point.js';
import { ShardRegistry } from './shard-registry.js';
import { StepCloser } from './step-closer.js';
import { StepLedger } from './step-ledger.js';
import { resultOf, statusOf, type ClusterResult, type Counters, type FaultRecord } from './summary.js';
import { Watchdog } from './watchdog.js';

export type { CoordinatorOptions } from './coordinator-options.js';

/**
 * The coordinator: owns the job. It routes each message and timer to the part that owns that
 * lifecycle, and moves the job on (leasing, closing steps) after each:
 * - job-run.ts: the job's state, its end, and the fault log;
 * - membership.ts: the workers (registration, ids and sessions, heartbeats, death, quarantine);
 * - shard-registry.ts: the shards (registration, URLs, versions, loss and return, pulls);
 * - leases.ts: each lease (leased, done, expired, revoked, lost with its worker);
 * - lease-policy.ts: which micro-batches go where, chosen once from the mode (sync-policy.ts with
 *   backup-leases.ts, async-policy.ts);
 * - step-closer.ts: closing complete steps in order (StepLedger), evaluations, the end;
 * - watchdog.ts: a step the shards never applied, a job waiting for its peers.
 *
 * Faults (CLUSTER.md, faults): a dead or overdue worker's lease is leased again; a straggling
 * lease gets a backup copy (sync); micro-batches a shard refused as poisoned go to another worker,
 * and a worker with `quarantineAfter` refusals is quarantined; a lost shard pauses the job until it
 * registers again, then what it had not applied is leased again; with no live worker for
 * `workerlessTimeoutMs` the job fails. A restarted coordinator (`resume`) continues from the steps
 * its run folder records and the versions the shards report.
 */
export class Coordinator {
  private readonly plan: PlanSizes;
  private readonly log: Logger;
  private readonly run: JobRun;
  private readonly ledger: StepLedger;
  private readonly refusals = new Refusals();
  private readonly shards: ShardRegistry;
  private readonly leases: Leases;
  private readonly members: Membership;
  private readonly policy: LeasePolicy;
  private readonly closer: StepCloser;
  private readonly watchdog: Watchdog;
  private readonly sweep: NodeJS.Timeout;
  private readonly samples: LeaseSamples | undefined;

  constructor(private readonly options: CoordinatorOptions) {
    const { job, resume, pastFaults, tickets } = options;
    const { config } = job;
    const plan = (this.plan = planSizes(job));
    const log = (this.log = options.log ?? silentLogger);
    const Policy = LEASE_POLICIES[config.mode];
    if (resume) checkResumable(resume, Policy.resumable, plan.totalSteps);
    // The parts call one another through closures: each is built here before any of them runs.
    const step = (): number => this.closer.step;
    const schedule = (): void => this.schedule();
    const spans = options.spans ?? noSpans;
    const onFault = (record: FaultRecord): void | Promise<void> => {
      spans.instant('fault', { kind: record.kind, workerId: record.workerId, step: record.step });
      return options.onFault?.(record);
    };
    const run = (this.run = new JobRun({ log, stop: () => this.stop(), step, pastFaults, onFault }));
    const ledger = (this.ledger = new StepLedger(plan.microBatchesPerStep, config.psShards, Policy.perMicroBatchUpdates));
    const { refusals } = this;
    const revokeAll = (reason: string): void => this.leases.releaseRunning(reason);
    const shards = (this.shards = new ShardRegistry({
      job,
      paramCount: options.paramCount,
      run,
      step,
      lostSteps: (version) => this.policy.lostSteps(version, step()),
      revokeAll,
      log,
    }));
    const deadlineMs = options.leaseTimeoutMs ?? config.leaseTimeoutMs;
    const finished = (s: number, ms: number): void => this.policy.leaseFinished?.(s, ms);
    const samples = (this.samples = options.train ? new LeaseSamples(options.train, config) : undefined);
    const leases = (this.leases = new Leases({ ledger, run, workers: () => this.members.all(), deadlineMs, tickets, samples, finished, schedule, log, spans }));
    const members = (this.members = new Membership({ job, plan, run, refusals, shards, leases, step, joined: () => this.joined(), schedule, log }));
    const lease: PolicyParts['lease'] = (...args) => leases.issue(...args);
    const policy = (this.policy = new Policy({
      ledger,
      plan,
      config,
      roster: members,
      refusals,
      lease,
      shardVersion: () => shards.minVersion(),
      canLease: () => this.canLease(),
      firstStep: resume?.step ?? 0,
      log,
    }));
    const evaluated = (steps: number): void => {
      policy.evaluated?.(steps);
      this.schedule();
    };
    const pull = (steps: number): ReturnType<ShardRegistry['pull']> => shards.pull(policy.pullAt(steps));
    const closer = (this.closer = new StepCloser({
      options,
      plan,
      batchSize: config.batchSize,
      ledger,
      run,
      pull,
      refreshShards: () => shards.refreshStatus(),
      stepClosed: (t) => this.stepClosed(t),
      evaluated,
      result: (final) => resultOf(final, this.counters()),
    }));
    this.watchdog = new Watchdog({ run, ledger, shardCount: config.psShards, closer, shards, members, leases, leaseAgain: () => this.leaseAgain(), log });
    // A supervisor may pass --resume on every start: only a run that had begun was restarted.
    if (resume && (resume.step > 0 || (pastFaults?.length ?? 0) > 0))
      run.record('coordinator-restarted', {}, `resumed after ${resume.step} closed steps; the shards report where they are`);
    const timeout = options.workerTimeoutMs ?? config.workerTimeoutMs;
    const check = (now: number): void => {
      this.members.expireSilent(now, timeout);
      this.watchdog.check(now, timeout);
    };
    this.sweep = setInterval(() => check(Date.now()), Math.max(50, Math.floor(timeout / 4)));
    this.sweep.unref();
  }

  /** Resolves when the last step is applied and evaluated; rejects when the job fails. */
  get done(): Promise<ClusterResult> {
    return this.run.done;
  }

  get jobState(): JobState {
    return this.run.state;
  }

  /** Serves one authenticated connection (a shard or a worker). */
  attach(connection: Connection): void {
    connection.on('message', (msg) => this.handle(connection, msg));
    connection.on('close', (code, reason) => this.closed(connection, code, reason));
  }

  /** Every connection the coordinator serves, for shutdown. */
  connections(): Connection[] {
    return [...this.shards.connections(), ...this.members.connections()];
  }

  /** JSON for GET /status. */
  status(): { [key: string]: JsonValue } {
    return statusOf({
      state: this.run.state,
      step: this.closer.step,
      plan: this.plan,
      config: this.options.job.config,
      shardVersions: this.shards.versions,
      shardUrls: this.shards.urls,
      ...this.counters(),
    });
  }

  /** Asks every shard for its status report (counters, async staleness histogram), kept for `status()` and the result. */
  refreshShardStatus(): Promise<JsonValue[]> {
    return this.shards.refreshStatus();
  }

  /** Stops timers; the caller closes the connections. */
  stop(): void {
    clearInterval(this.sweep);
    this.policy.stop?.();
    this.shards.stop();
    this.members.stop();
    this.leases.stop();
  }

  private handle(connection: Connection, msg: Message): void {
    try {
      switch (msg.type) {
        case 'register':
          if (connection.peer.role === 'ps') this.shards.register(connection, msg);
          else {
            checkSampleWorker(this.samples, connection, msg);
            this.members.register(connection, msg);
          }
          break;
        case 'shardReady':
          if (!this.shards.ready(connection, msg)) break;
          if (this.run.state === JobState.Recovering) this.recover();
          this.members.admitWaiting();
          break;
        case 'heartbeat':
          this.members.heartbeat(connection, msg.workerId);
          break;
        case 'leaseDone':
          this.leaseDone(connection, msg);
          break;
        case 'stepApplied':
          this.stepApplied(connection, msg);
          break;
        case 'stepRefused':
          this.run.fail(this.shards.refusal(connection, msg));
          break;
        case 'status':
          void connection.reply(msg, { type: 'statusReport', role: 'coordinator', step: this.closer.step, version: this.closer.step, detail: this.status() });
          break;
        default:
          break;
      }
    } catch (error) {
      const refusal = error instanceof ProtocolError ? error : new ProtocolError('E_INTERNAL', String(error), { cause: error });
      this.log({ level: 'warn', event: 'coordinator-refused', type: msg.type, code: refusal.code, message: refusal.message });
      void connection.replyError(msg, refusal);
    }
  }

  private leaseDone(connection: Connection, msg: MessageOf<'leaseDone'>): void {
    const worker = this.members.byConnection(connection);
    if (!worker) throw new ProtocolError('E_ROLE', 'leaseDone from a connection that is not a registered worker; send register first', { ref: msg.seq });
    if (!this.leases.complete(worker, msg, this.closer.step)) return;
    if (msg.refused && msg.refused.length > 0) {
      // Poisoned micro-batches go back to be leased to another worker; the worker gets a strike.
      this.ledger.requeue(msg.step, msg.refused);
      this.members.strike(worker, msg.step, msg.refused, 'refused as poisoned (non-finite, or a norm over maxGradNorm)');
    }
    this.leases.revokeFinished(msg.step);
    this.policy.advance?.(this.closer.step);
    void this.closer.drain();
    this.schedule();
  }

  private stepApplied(connection: Connection, msg: MessageOf<'stepApplied'>): void {
    const s = this.shards.sender(connection, msg);
    this.options.spans?.instant('stepApplied', { step: msg.step, shard: s, version: msg.version });
    this.shards.reportVersion(s, msg.version);
    // A restarted coordinator, or a shard re-sending after a reconnect, reports steps not yet open here.
    this.policy.applied?.(msg.step, this.closer.step);
    this.ledger.applied(msg.step, s, msg.microBatchIds, msg.lr, msg.gradNorm, msg.losses);
    void this.closer.drain();
    // The shards' losses can finish a step no lease will report (its worker died after
    // pushing). Lease on from here only when no worker still owes a leaseDone: leasing the
    // next step while one is busy would hand it all to the others and starve that one.
    if (!this.members.anyBusy()) {
      this.policy.advance?.(this.closer.step);
      this.schedule();
    }
  }

  private closed(connection: Connection, code: number, reason: string): void {
    // After the end every peer leaves on the shutdown; that is no fault.
    if (this.run.over) return;
    const shard = this.shards.indexOf(connection);
    if (shard >= 0) this.shards.lost(shard, `${code} ${reason}`);
    else this.members.disconnected(connection);
  }

  /** A new worker was admitted; the first one starts training. */
  private joined(): void {
    if (this.run.state === JobState.Waiting) {
      this.run.to(JobState.Training);
      this.policy.start?.();
      // A restarted coordinator may hear of applied steps (the shards re-send them) before training starts.
      this.policy.advance?.(this.closer.step);
      void this.closer.drain();
      if (this.closer.evaluateDue()) return;
    }
    this.schedule();
  }

  private canLease(): boolean {
    return this.run.state === JobState.Training && !this.closer.pausedForEval;
  }

  /** Leases pending micro-batches to idle workers, as the mode's policy says. */
  private schedule(): void {
    if (!this.canLease()) return;
    const idle = this.members.idle();
    if (idle.length === 0) return;
    this.policy.assign(idle, this.closer.step);
  }

  /** Every shard is back: the micro-batches some shard had not applied are leased again. */
  private recover(): void {
    this.shards.recovered();
    this.run.to(JobState.Training);
    this.log({ level: 'info', event: 'recovered', step: this.closer.step, shardVersions: this.shards.versions });
    this.leaseAgain();
  }

  /** Every micro-batch of an open step that some shard has not applied is leased again. */
  private leaseAgain(): void {
    for (const step of this.ledger.openSteps()) {
      const back = this.ledger.reopen(step);
      if (back.length > 0) this.log({ level: 'info', event: 'step-reopened', step, microBatchIds: back });
    }
    this.policy.reopened?.(this.closer.step);
    void this.closer.drain();
    this.schedule();
  }

  private stepClosed(step: number): void {
    this.policy.stepClosed?.(step);
    this.refusals.forgetBefore(step + 1);
    this.leases.forgetClosed(step);
  }

  private counters(): Counters {
    return { workers: this.members.all(), faults: this.run.faults, staleReleased: this.leases.staleReleased, shards: this.shards.reports };
  }
}
