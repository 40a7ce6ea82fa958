import { checkSize, checkVector } from './check-arrays.js';
import { checkHyperParameter, resolveConfig } from './hyper-parameters.js';
import { LbfgsHistory } from './lbfgs-history.js';
import { checkState, snapshot } from './optimizer-state.js';
import type { StateLayout } from './optimizer-state.js';
import type { Optimizer, OptimizerBuffers, OptimizerConfig, OptimizerState, ResolvedConfig } from './types.js';
import { dot } from './vector.js';

export interface LbfgsHyperParameters {
  /** Step length α along the quasi-Newton direction. @default 1 */
  readonly lr: number;
  /** Number m of (s, y) pairs kept. @default 10 */
  readonly history: number;
}

/**
 * L-BFGS with one gradient per step, so that it fits `step(params, grads)` and the parameter
 * server (a line search would need extra loss and gradient evaluations per step: for that, see
 * `minimizeLbfgs`). Each step:
 *
 *   1. from the previous step, s = w(k) − w(k−1), y = ∇J(w(k)) − ∇J(w(k−1)) joins the history of
 *      the m newest pairs if sᵀy > 1e-8‖s‖‖y‖ (else it is skipped, keeping H positive definite);
 *   2. d = H∇J(w(k)) by the two-loop recursion, H0 = (sᵀy/yᵀy)·I from the newest pair;
 *   3. w(k+1) = w(k) − α·d.
 *
 * Safeguards instead of a line search: without pairs (the first step, or after a reset) the step
 * is steepest descent scaled to length at most α, d = ∇J/max(1, ‖∇J‖); if d is not a descent
 * direction (∇Jᵀd ≤ 0, possible in float32 or with a bad pair) the history is cleared and that
 * scaled gradient step is taken instead. α = 1 (the quasi-Newton step), m = 10 by default.
 *
 * When it is appropriate: deterministic objectives and full or large batches (the same examples,
 * or enough of them that successive gradients differ mainly by curvature, not by sampling noise).
 * With small stochastic batches y mixes curvature with noise; then use much larger batches, a
 * smaller α (0.1–0.5), or a first-order optimizer. The history couples all coordinates through
 * dot products, so it needs the whole parameter vector in one place: one parameter-server shard.
 * Memory: 2m + 3 vectors of the parameter count.
 *
 * Slots, in order: `s0` … `s{m−1}`, `y0` … `y{m−1}` (ring buffer), `prevParams`, `prevGrads`;
 * scalars: `pairs` (stored pairs, 0 … m) and `newest` (ring slot of the newest pair).
 */
export class LbfgsOptimizer implements Optimizer {
  readonly name = 'lbfgs' as const;
  readonly size: number;
  readonly config: ResolvedConfig & LbfgsHyperParameters;
  private readonly history: LbfgsHistory;
  private readonly prevParams: Float32Array;
  private readonly prevGrads: Float32Array;
  private readonly direction: Float32Array;
  private readonly layout: StateLayout;
  private ownBuffers: OptimizerBuffers | undefined;
  private taken = 0;

  constructor(config: OptimizerConfig, size: number) {
    this.size = checkSize('lbfgs', size);
    this.config = resolveConfig(config, { lr: 1, history: 10 });
    const m = this.config.history;
    this.history = new LbfgsHistory(size, m);
    this.prevParams = new Float32Array(size);
    this.prevGrads = new Float32Array(size);
    this.direction = new Float32Array(size);
    this.layout = {
      name: 'lbfgs',
      size,
      slots: this.slotEntries().map(([slot]) => [slot, size]),
      scalars: [
        ['pairs', m],
        ['newest', m - 1],
      ],
    };
  }

  get steps(): number {
    return this.taken;
  }

  /**
   * Plain Float32Arrays, allocated at first use (L-BFGS runs in JavaScript, so any array is as
   * good as these); `point` is `params`, since L-BFGS takes the gradient at w(k).
   */
  get buffers(): OptimizerBuffers {
    if (this.ownBuffers === undefined) {
      const params = new Float32Array(this.size);
      this.ownBuffers = Object.freeze({ params, grads: new Float32Array(this.size), point: params });
    }
    return this.ownBuffers;
  }

  step(params: Float32Array, grads: Float32Array, lr?: number): void {
    checkVector('lbfgs.step', 'params', params, this.size);
    checkVector('lbfgs.step', 'grads', grads, this.size);
    const rate = lr === undefined ? this.config.lr : checkHyperParameter('lbfgs.step', 'lr', lr);
    if (this.taken > 0) this.history.offer(params, this.prevParams, grads, this.prevGrads);
    let scale = rate;
    if (this.history.pairs === 0 || !(this.history.inverseHessianTimes(grads, this.direction) > 0)) {
      this.history.reset();
      this.direction.set(grads);
      scale = rate / Math.max(1, Math.sqrt(dot(grads, grads)));
    }
    this.prevParams.set(params);
    this.prevGrads.set(grads);
    const d = this.direction;
    const n = this.size;
    for (let i = 0; i < n; i++) params[i] -= scale * d[i];
    this.taken += 1;
  }

  lookahead(): boolean {
    return false;
  }

  state(): OptimizerState {
    return snapshot('lbfgs', this.size, this.taken, this.slotEntries(), [
      ['pairs', this.history.pairs],
      ['newest', this.history.newest],
    ]);
  }

  load(state: OptimizerState): void {
    this.taken = checkState(this.layout, state);
    for (const [slot, array] of this.slotEntries()) array.set(state.slots[slot]);
    this.history.restore(state.scalars['pairs'], state.scalars['newest']);
  }

  private slotEntries(): (readonly [string, Float32Array])[] {
    return [
      ...this.history.s.map((s, j) => [`s${j}`, s] as const),
      ...this.history.y.map((y, j) => [`y${j}`, y] as const),
      ['prevParams', this.prevParams],
      ['prevGrads', this.prevGrads],
    ];
  }
}
