import type { Logger, Spans } from '@dptrain/log';
import type { JobDescription } from '@dptrain/job';
import type { LeaseTickets } from '../lease-ticket.js';

/**
 * A shard's options and what it reports, apart from the shard itself: the checkpoint file keeps
 * the reports, and neither it nor the shard's parts should import the shard for them.
 */

/** One optimizer update of a shard, as reported to the coordinator in `stepApplied`. */
export interface AppliedReport {
  readonly step: number;
  readonly version: number;
  readonly microBatchIds: number[];
  /** Learning rate of the update. */
  readonly lr: number;
  /** ℓ2 norm of this shard's slice of the applied gradient, before clipping. */
  readonly gradNorm: number;
  /**
   * The loss each applied micro-batch's push carried, in `microBatchIds` order: the coordinator
   * completes a step from what the shards applied, even when the worker that pushed a micro-batch
   * died before reporting it.
   */
  readonly losses: number[];
}

/** A step the shard would not apply, and why. */
export interface StepRefusal {
  readonly step: number;
  readonly version: number;
  readonly reason: string;
}

export interface ParameterServerOptions {
  readonly job: JobDescription;
  /** This shard's index, 0..psShards−1. */
  readonly shard: number;
  /** @default silentLogger */
  readonly log?: Logger;
  /** Where the fold, update, reply, walAppend and checkpoint spans go (metrics, trace). @default noSpans */
  readonly spans?: Spans;
  /** Called after each optimizer update (sync: a whole step; async: one micro-batch). */
  readonly onApplied?: (applied: AppliedReport) => void;
  /**
   * Called when the shard must not go on: its write-ahead log failed after an update was made and
   * served. The process should stop, as a kill would; restarted with resume it comes back at the
   * last logged version and the coordinator leases the lost step again. @default throws it as an
   *   uncaught exception
   */
  readonly onFatal?: (error: Error) => void;
  /**
   * Called when the shard refuses a step whose mean gradient or resulting parameters are not
   * finite (nothing of it was served or logged; the shard then refuses every push and pull): tell
   * the coordinator, which fails the job. @default nothing
   */
  readonly onRefused?: (refusal: StepRefusal) => void;
  /**
   * Checks each push's lease ticket before the push can touch the shard (lease-ticket.ts); a push
   * without a valid one is refused with E_TICKET and counted (`unticketed`). @default no check
   */
  readonly tickets?: LeaseTickets;
}
