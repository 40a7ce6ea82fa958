import type { Logger, Spans } from '@dptrain/log';
import type { InjectedFaults } from './injected-faults.js';

/** One lease's outcome and where its time went. */
export interface LeaseResult {
  /** Micro-batches whose pushes every shard acknowledged `accepted` or `duplicate`, in lease order. */
  readonly ids: number[];
  /** Their losses. */
  readonly losses: number[];
  /** Async: micro-batches a shard answered `stale` (the coordinator leases them again). */
  readonly stale: number[];
  /** Micro-batches a shard refused as poisoned (the coordinator leases them to another worker). */
  readonly refused: number[];
  readonly computeMs: number;
  readonly pullMs: number;
  /** From the last gradient computed until every push was acknowledged. */
  readonly pushMs: number;
}

/**
 * The per-lease work of a worker, with every parameter-sized buffer allocated once.
 *
 * Sync: one pull of step t from every shard, then for each micro-batch compute and push (the
 * pushes travel while the next micro-batch computes). Right after its last push the worker sends
 * the pull of step t+1, which the shard holds until t is applied: the parameters are on their way
 * before the coordinator's next lease arrives. A worker never waits on that pull while it has
 * other work, so a re-leased micro-batch of t cannot be starved by it. Async: before each micro-batch, a pull of
 * the newest parameters (`minVersion` = the newest version seen, so the worker reads its own
 * writes: a connection delivers in order, so the shard applied the previous push first), then
 * compute and push tagged with the pulled version.
 */
export interface LeaseComputerOptions {
  /** Async mode: pull before each micro-batch, `stale` acknowledgements are expected. */
  readonly async: boolean;
  /** How long a pull may be held at a shard. */
  readonly pullTimeoutMs: number;
  /**
   * Sync: push a lease's leading run of micro-batches 0, 1, … as one pre-summed pushRun (off when
   * the job sets maxGradNorm, which judges each micro-batch alone). @default true
   */
  readonly presum?: boolean;
  /** @default no faults */
  readonly faults?: InjectedFaults;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Where the lease, pull, compute and push spans go (metrics, trace). @default noSpans */
  readonly spans?: Spans;
}
