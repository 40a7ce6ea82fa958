import type { JobConfig } from '@dptrain/config';
import { clipByGlobalNorm, createOptimizer, createSchedule, globalNorm, type LearningRateSchedule, type Optimizer } from '@dptrain/optim';
import { optimizerConfigOf } from './job-settings.js';

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

  /** Clips `meanGrad` in place when configured, then takes one optimizer step on `params`. */
  apply(params: Float32Array, meanGrad: Float32Array): AppliedUpdate {
    const lr = this.schedule(this.optimizer.steps);
    const gradNorm = this.clipNorm === undefined ? globalNorm(meanGrad) : clipByGlobalNorm(meanGrad, this.clipNorm);
    this.optimizer.step(params, meanGrad, lr);
    return { lr, gradNorm };
  }
}
