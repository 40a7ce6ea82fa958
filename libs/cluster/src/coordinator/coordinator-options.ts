import type { Split } from '@dptrain/data';
import type { Logger, Spans } from '@dptrain/log';
import type { JobDescription } from '@dptrain/job';
import type { LeaseTickets } from '../lease-ticket.js';
import type { ResumePoint } from './resume-point.js';
import type { FaultRecord } from './summary.js';

export type Evaluation = { loss: number; accuracy: number };

export interface CoordinatorOptions {
  readonly job: JobDescription;
  readonly paramCount: number;
  /** Evaluates the test split on full parameters and running statistics. */
  readonly evaluate: (params: Float32Array, bnState: Float32Array | undefined) => Promise<Evaluation> | Evaluation;
  /** Evaluates the held-out validation split (jobs with `holdout` > 0), before the test split at each epoch's end. */
  readonly validate?: (params: Float32Array, bnState: Float32Array | undefined) => Promise<Evaluation> | Evaluation;
  /** Each closed step; `epoch` counts from 1, as the progress display does (metrics.jsonl). */
  readonly onStep?: (record: { kind: 'step'; step: number; epoch: number; loss: number; lr: number; gradNorm: number }) => void | Promise<void>;
  readonly onEval?: (record: {
    kind: 'eval';
    step: number;
    epoch: number;
    split: 'test' | 'validation';
    loss: number;
    accuracy: number;
  }) => void | Promise<void>;
  /** Sees each fault as it is recorded (a restarted coordinator reads them back). */
  readonly onFault?: (record: FaultRecord) => void | Promise<void>;
  /** A worker silent for this long is dead. @default job.config.workerTimeoutMs */
  readonly workerTimeoutMs?: number;
  /** A lease not done within this long is re-leased. @default job.config.leaseTimeoutMs */
  readonly leaseTimeoutMs?: number;
  /** A restarted coordinator's starting point (sync jobs), from the run folder. */
  readonly resume?: ResumePoint;
  /** Faults recorded before a restart, carried into this run's summary. */
  readonly pastFaults?: readonly FaultRecord[];
  /**
   * Signs every lease so that shards take only pushes of leased micro-batches (lease-ticket.ts).
   * Without it leases carry no tickets, and shards that check them refuse every push.
   */
  readonly tickets?: LeaseTickets;
  /**
   * The training split (the plan's samples, as bytes): every lease of a worker that registered
   * without a data set (`register.samples`) carries its samples' rows from it. Without it such a
   * worker is refused.
   */
  readonly train?: Split;
  /** Where the step spans and the lease, stepApplied and fault instants go (metrics, trace). @default noSpans */
  readonly spans?: Spans;
  /** @default silentLogger */
  readonly log?: Logger;
}
