import type { JobConfig } from '@dptrain/config';
import { clipByGlobalNorm, createOptimizer, createSchedule, globalNorm, type LearningRateSchedule, type Optimizer } from '@dptrain/optim';
import { optimizerConfigOf } from '@dptrain/job';

export interface AppliedUpdate {
  /** Learning rate this step used. */
  readonly lr: number;
  /** Global ℓ2 norm of the mean gradient before clipping. */
  readonly gradNorm: number;
}

/**
 * What turns the mean gradient of a step into new parameters: optional global-norm clipping, the
 * learning-rate schedule, and the optimizer. The reference trainer and the parameter server both
 * apply steps through this one object, so they cannot disagree on the order of these operations.
 */
export class UpdateRule {
  readonly optimizer: Optimizer;
  private readonly schedule: LearningRateSchedule;
  private readonly clipNorm: number | undefined;

  constructor(config: JobConfig, paramCount: number, totalSteps: number, stepsPerEpoch: number) {
    this.optimizer = createOptimizer(optimizerConfigOf(config), paramCount);
    this.schedule = createSchedule({
      lr: this.optimizer.config.lr,
      kind: config.schedule,
      warmupSteps: config.warmupSteps,
      totalSteps,
      stepSize: config.lrStepSize ?? stepsPerEpoch,
      gamma: config.lrGamma,
      minLr: config.minLr,
    });
    this.clipNorm = config.clipNorm;
  }

  /** Steps applied so far. */
  get steps(): number {
    return this.optimizer.steps;
  }

  /** Where the next gradient must be taken: writes it into `out` and returns it, or returns `params`. */
  gradientPoint(params: Float32Array, out: Float32Array): Float32Array {
    return this.optimizer.lookahead(params, out) ? out : params;
  }

  /** Whether apply() changes the gradient it is given (clipping scales it in place). */
  get changesGradient(): boolean {
    return this.clipNorm !== undefined;
  }

  /** Clips `meanGrad` in place when configured, then takes one optimizer step on `params`. */
  apply(params: Float32Array, meanGrad: Float32Array): AppliedUpdate {
    const { lr, gradNorm } = this.update(params, meanGrad);
    return { lr, gradNorm: gradNorm ?? globalNorm(meanGrad) };
  }

  /**
   * apply() without measuring the gradient when it does not have to (no clipping): `gradNorm` is
   * then undefined, and `globalNorm(meanGrad)` gives it later, since the optimizers only read the
   * gradient. For a caller with something more urgent to do first (the parameter server answers
   * the pulls waiting for the new parameters).
   */
  update(params: Float32Array, meanGrad: Float32Array): { lr: number; gradNorm: number | undefined } {
    const lr = this.schedule(this.optimizer.steps);
    const gradNorm = this.clipNorm === undefined ? undefined : clipByGlobalNorm(meanGrad, this.clipNorm);
    this.optimizer.step(params, meanGrad, lr);
    return { lr, gradNorm };
  }
}
