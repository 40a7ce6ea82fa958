import type { Logger } from '@dptrain/log';
import { JobState, transition } from '../lifecycle.js';
import type { ClusterResult, FaultRecord } from './summary.js';

/** Who a fault concerns: a worker (`id`, `name`) and the micro-batches of its lease (`step`, `ids`). */
export interface FaultSubject {
  readonly worker?: { readonly id: number; readonly name: string };
  readonly lease?: { readonly step: number; readonly ids: readonly number[] };
  /** The name recorded when no worker is concerned. @default 'coordinator' */
  readonly name?: string;
}

export interface JobRunOptions {
  readonly log: Logger;
  /** Stops every timer of the coordinator; called once the job has failed or finished. */
  readonly stop: () => void;
  /** The lowest step not yet complete, recorded with a fault that names no lease. */
  readonly step: () => number;
  readonly pastFaults?: readonly FaultRecord[];
  readonly onFault?: (record: FaultRecord) => void | Promise<void>;
}

/**
 * The job's lifecycle (lifecycle.ts `JobState`) and its fault log: the one place the job changes
 * state, fails, or finishes, so that every part of the coordinator that can end the job ends it
 * the same way (timers stopped, `done` settled once).
 */
export class JobRun {
  private current = JobState.Waiting;
  readonly faults: FaultRecord[];
  private readonly started = Date.now();
  private settle!: { resolve: (r: ClusterResult) => void; reject: (e: Error) => void };
  /** Resolves when the last step is applied and evaluated; rejects when the job fails. */
  readonly done: Promise<ClusterResult>;

  constructor(private readonly options: JobRunOptions) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
    this.faults = [...(options.pastFaults ?? [])];
  }

  get state(): JobState {
    return this.current;
  }

  /** Done or failed: nothing the peers do any more is a fault. */
  get over(): boolean {
    return this.current === JobState.Done || this.current === JobState.Failed;
  }

  to(next: JobState): void {
    this.current = transition('job', this.current, next);
  }

  fail(error: Error): void {
    if (this.over) return;
    this.to(JobState.Failed);
    this.options.stop();
    this.options.log({ level: 'error', event: 'job-failed', message: error.message });
    this.settle.reject(error);
  }

  /** The final evaluation is written: the job is done with `result`. */
  finish(result: ClusterResult): void {
    this.options.stop();
    this.to(JobState.Done);
    this.settle.resolve(result);
  }

  record(kind: FaultRecord['kind'], subject: FaultSubject, action: string): void {
    const { worker, lease } = subject;
    const record: FaultRecord = {
      kind,
      workerId: worker?.id ?? -1,
      name: worker?.name ?? subject.name ?? 'coordinator',
      step: lease?.step ?? this.options.step(),
      microBatchIds: lease?.ids ?? [],
      action,
      atMs: Date.now() - this.started,
    };
    this.faults.push(record);
    void this.options.onFault?.(record);
  }
}
