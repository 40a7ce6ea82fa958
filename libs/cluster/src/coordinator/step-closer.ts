import type { PlanSizes } from '@dptrain/job';
import { JobState } from '../lifecycle.js';
import type { CoordinatorOptions, Evaluation } from './coordinator-options.js';
import type { JobRun } from './job-run.js';
import { steadyRate } from './steady-rate.js';
import type { StepLedger } from './step-ledger.js';
import type { ClusterResult, FinalSteps } from './summary.js';

type Snapshot = { params: Float32Array; bnState: Float32Array | undefined };

export interface StepCloserParts {
  /** The evaluation functions, the step and evaluation callbacks, and where a restarted coordinator resumes. */
  readonly options: Pick<CoordinatorOptions, 'evaluate' | 'validate' | 'onStep' | 'onEval' | 'resume'>;
  readonly plan: PlanSizes;
  readonly batchSize: number;
  readonly ledger: StepLedger;
  readonly run: JobRun;
  /** The parameters and running statistics after `steps` steps, from every shard. */
  readonly pull: (steps: number) => Promise<Snapshot>;
  /** Asks every shard for its status report (the result and GET /status show the last ones). */
  readonly refreshShards: () => Promise<unknown>;
  /** `step` closed: what was kept for its leases can go. */
  readonly stepClosed: (step: number) => void;
  /** The evaluation after `steps` steps is over: lease the next epoch. */
  readonly evaluated: (steps: number) => void;
  /** The job's result around what the closer knows at the end. */
  readonly result: (final: FinalSteps) => ClusterResult;
}

/**
 * Closes complete steps in order (StepLedger: every micro-batch done and applied by every shard):
 * the step's metrics, the epoch's train loss, the evaluation at each epoch's end with leasing
 * paused, and at the last step the final evaluation and the job's result. It also keeps the
 * steady-state clock: each step's time since the close before, evaluation pauses taken out.
 */
export class StepCloser {
  /** The lowest step not yet complete. */
  private next = 0;
  private draining = false;
  private paused = false;
  /** The coordinator died between an epoch's last step and its evaluation. */
  private evalDue = false;
  private epochLossSum = 0;
  private epochSteps = 0;
  private trainLoss = Number.NaN;
  /** Steady-state clock: the steps not timed, each later step's milliseconds, evaluation time since the last close. */
  private readonly warmSteps: number;
  private readonly stepMs: number[] = [];
  private lastCloseAt = Number.NaN;
  private evalMs = 0;

  constructor(private readonly parts: StepCloserParts) {
    this.warmSteps = Math.max(1, Math.floor(parts.plan.totalSteps / 10));
    const r = parts.options.resume;
    if (r) {
      this.next = r.step;
      this.epochLossSum = r.epochLossSum;
      this.epochSteps = r.epochSteps;
      this.trainLoss = r.trainLoss;
      this.evalDue = r.evalDue;
    }
  }

  /** The lowest step not yet complete (the number of steps closed). */
  get step(): number {
    return this.next;
  }

  /** An epoch's evaluation runs: nothing is leased meanwhile. */
  get pausedForEval(): boolean {
    return this.paused;
  }

  /** Training starts: runs the evaluation a restarted coordinator owes; returns whether it does. */
  evaluateDue(): boolean {
    if (!this.evalDue) return false;
    this.evalDue = false;
    void this.evaluateEpoch(this.next, Math.floor((this.next - 1) / this.parts.plan.stepsPerEpoch) + 1).catch((error: unknown) =>
      this.parts.run.fail(asError(error)),
    );
    return true;
  }

  /** Closes every complete step in order; one drain runs at a time (stepApplied and leaseDone both call it). */
  async drain(): Promise<void> {
    const { ledger, plan, run } = this.parts;
    if (this.draining || run.state !== JobState.Training) return;
    this.draining = true;
    try {
      while (run.state === JobState.Training && ledger.isComplete(this.next)) {
        const t = this.next;
        const outcome = ledger.close(t);
        // 1-based, as metrics.jsonl and the progress display count epochs.
        const epoch = Math.floor(t / plan.stepsPerEpoch) + 1;
        this.epochLossSum += outcome.loss;
        this.epochSteps++;
        this.next = t + 1;
        const now = performance.now();
        if (this.next > this.warmSteps) this.stepMs.push(now - this.lastCloseAt - this.evalMs);
        this.lastCloseAt = now;
        this.evalMs = 0;
        this.parts.stepClosed(t);
        const last = t + 1 === plan.totalSteps;
        const epochEnd = (t + 1) % plan.stepsPerEpoch === 0;
        if (epochEnd || last) {
          this.trainLoss = this.epochLossSum / this.epochSteps;
          this.epochLossSum = 0;
          this.epochSteps = 0;
        }
        await this.parts.options.onStep?.({ kind: 'step', step: t + 1, epoch, ...outcome });
        if (last) {
          run.to(JobState.Finishing);
          const { params, bnState, test } = await this.evaluateAll(t + 1, epoch);
          await this.parts.refreshShards();
          const steadySamplesPerSecond = steadyRate(this.stepMs, this.parts.batchSize);
          run.finish(this.parts.result({ params, bnState, steps: t + 1, epochs: epoch, trainLoss: this.trainLoss, test, steadySamplesPerSecond }));
          return;
        }
        if (epochEnd) await this.evaluateEpoch(t + 1, epoch);
      }
    } catch (error) {
      run.fail(asError(error));
    } finally {
      this.draining = false;
    }
  }

  /** An epoch's end: leasing paused, validation (with a holdout) and test evaluation, then the next epoch's first step. */
  private async evaluateEpoch(steps: number, epoch: number): Promise<void> {
    this.paused = true;
    const evalStarted = performance.now();
    await this.evaluateAll(steps, epoch);
    await this.parts.refreshShards();
    this.evalMs += performance.now() - evalStarted;
    this.paused = false;
    this.parts.evaluated(steps);
  }

  private async evaluateAll(steps: number, epoch: number): Promise<Snapshot & { test: Evaluation }> {
    const { options } = this.parts;
    const { params, bnState } = await this.parts.pull(steps);
    if (options.validate) {
      const validation = await options.validate(params, bnState);
      await options.onEval?.({ kind: 'eval', step: steps, epoch, split: 'validation', ...validation });
    }
    const test = await options.evaluate(params, bnState);
    await options.onEval?.({ kind: 'eval', step: steps, epoch, split: 'test', ...test });
    return { params, bnState, test };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
