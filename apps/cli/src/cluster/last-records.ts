/** A closed step's record as metrics.jsonl has it, with the samples/s announced beside it. */
export interface StepView {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  readonly samplesPerSecond: number;
}

/** An evaluation's record as metrics.jsonl has it. */
export interface EvalView {
  readonly step: number;
  readonly split: string;
  readonly loss: number;
  readonly accuracy: number;
}

/**
 * The last step record and the last evaluation of each split, as the coordinator hands them to
 * metrics.jsonl: the coordinator's metrics read these rather than keep their own numbers.
 */
export class LastRecords {
  private lastStep: StepView | undefined;
  private readonly evals = new Map<string, EvalView>();

  step(record: StepView): void {
    this.lastStep = record;
  }

  eval(record: EvalView): void {
    this.evals.set(record.split, record);
  }

  get lastStepRecord(): StepView | undefined {
    return this.lastStep;
  }

  /** The last evaluation of each split evaluated so far. */
  lastEvals(): EvalView[] {
    return [...this.evals.values()];
  }
}
