/** Steps over which samples/s and the ETA are measured: recent ones, so start-up does not count. */
export const RATE_WINDOW = 50;

/** Fewer recent steps than this give no rate (the first steps include the workers' start-up). */
const MIN_STEPS = 5;

export interface Rate {
  readonly samplesPerSecond: number;
  readonly etaSeconds: number;
}

/**
 * Samples/s and seconds left from the last `window` closed steps, for the progress bar and the
 * dashboard alike. Measured up to `now`, so a job that stops closing steps (every worker gone, an
 * evaluation) shows its rate falling instead of the last one frozen.
 */
export class StepRate {
  private readonly times: { step: number; at: number }[] = [];

  constructor(
    private readonly plan: { readonly totalSteps: number; readonly batchSize: number },
    private readonly clock: () => number = () => performance.now(),
    private readonly window = RATE_WINDOW,
  ) {}

  /** Step `step` closed now. */
  step(step: number): void {
    this.times.push({ step, at: this.clock() });
    if (this.times.length > this.window) this.times.shift();
  }

  /** undefined until MIN_STEPS steps were seen. */
  rate(): Rate | undefined {
    if (this.times.length < MIN_STEPS) return undefined;
    const first = this.times[0]!;
    const last = this.times.at(-1)!;
    const stepsPerSecond = (last.step - first.step) / ((Math.max(last.at, this.clock()) - first.at) / 1000);
    return { samplesPerSecond: stepsPerSecond * this.plan.batchSize, etaSeconds: (this.plan.totalSteps - last.step) / stepsPerSecond };
  }
}
