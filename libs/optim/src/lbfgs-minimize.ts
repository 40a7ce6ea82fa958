import { checkSize, checkVector } from './check-arrays.js';
import { checkHyperParameter } from './hyper-parameters.js';
import { LbfgsHistory } from './lbfgs-history.js';
import { OptimError, describe } from './optim-error.js';
import { dot } from './vector.js';

/**
 * Writes ∇J(params) into `grads` and returns J(params). Called once per trial point.
 */
export type LossAndGradient = (params: Float32Array, grads: Float32Array) => number;

export interface MinimizeLbfgsOptions {
  /** Pairs kept. @default 10 */
  readonly history?: number;
  /** Iterations (accepted steps) at most. @default 100 */
  readonly maxIterations?: number;
  /** Stop when max_i |∇J_i| ≤ this. @default 1e-6 */
  readonly gradientTolerance?: number;
  /** Armijo constant c1 of the sufficient-decrease test. @default 1e-4 */
  readonly c1?: number;
  /** Halvings of the step tried before giving up. @default 30 */
  readonly maxBacktracks?: number;
}

export interface MinimizeLbfgsResult {
  /** J at the returned parameters. */
  readonly loss: number;
  /** Accepted steps. */
  readonly iterations: number;
  /** Calls of `lossAndGradient`, including the first. */
  readonly evaluations: number;
  /** Why it stopped. */
  readonly reason: 'gradient-tolerance' | 'max-iterations' | 'line-search-failed';
}

/**
 * L-BFGS with a backtracking (Armijo) line search, for deterministic objectives evaluated in one
 * process (e.g. a full-batch fit). Unlike `LbfgsOptimizer.step`, each iteration may evaluate the
 * loss and gradient several times, which the parameter server's one-gradient-per-step protocol
 * cannot offer; it shares the history and two-loop recursion with it.
 *
 * Iteration: d = H∇J(w) (steepest descent scaled to length ≤ 1 without pairs); try t = 1, ½, ¼, …
 * until J(w − t·d) ≤ J(w) − c1·t·∇Jᵀd; accept, store the pair, repeat. `params` ends at the last
 * accepted point.
 * @throws {OptimError} E_OPTIM_HYPERPARAMETER for a bad option; E_OPTIM_LENGTH if params is empty.
 */
export function minimizeLbfgs(lossAndGradient: LossAndGradient, params: Float32Array, options: MinimizeLbfgsOptions = {}): MinimizeLbfgsResult {
  const size = checkSize('minimizeLbfgs', params.length);
  checkVector('minimizeLbfgs', 'params', params, size);
  const history = checkHyperParameter('minimizeLbfgs', 'history', options.history ?? 10);
  const maxIterations = checkCount('maxIterations', options.maxIterations ?? 100);
  const maxBacktracks = checkCount('maxBacktracks', options.maxBacktracks ?? 30);
  const tolerance = checkPositive('gradientTolerance', options.gradientTolerance ?? 1e-6);
  const c1 = checkPositive('c1', options.c1 ?? 1e-4);
  if (c1 >= 1) throw optionError('c1', c1, 'a number in (0, 1)');

  const h = new LbfgsHistory(size, history);
  const grads = new Float32Array(size);
  const trial = new Float32Array(size);
  const trialGrads = new Float32Array(size);
  const direction = new Float32Array(size);
  let loss = lossAndGradient(params, grads);
  let evaluations = 1;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(grads) <= tolerance) return { loss, iterations: iteration, evaluations, reason: 'gradient-tolerance' };
    let slope = h.pairs > 0 ? h.inverseHessianTimes(grads, direction) : 0;
    if (!(slope > 0)) {
      h.reset();
      const scale = 1 / Math.max(1, Math.sqrt(dot(grads, grads)));
      for (let i = 0; i < size; i++) direction[i] = scale * grads[i];
      slope = dot(grads, direction);
    }
    let accepted = false;
    for (let k = 0, t = 1; k <= maxBacktracks; k++, t /= 2) {
      for (let i = 0; i < size; i++) trial[i] = params[i] - t * direction[i];
      const trialLoss = lossAndGradient(trial, trialGrads);
      evaluations += 1;
      if (trialLoss <= loss - c1 * t * slope) {
        h.offer(trial, params, trialGrads, grads);
        params.set(trial);
        grads.set(trialGrads);
        loss = trialLoss;
        accepted = true;
        break;
      }
    }
    if (!accepted) return { loss, iterations: iteration, evaluations, reason: 'line-search-failed' };
  }
  return { loss, iterations: maxIterations, evaluations, reason: 'max-iterations' };
}

function maxAbs(x: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  return max;
}

function optionError(field: string, value: unknown, range: string): OptimError {
  return new OptimError(
    'E_OPTIM_HYPERPARAMETER',
    field,
    value,
    `minimizeLbfgs: ${field} must be ${range}, got ${describe(value)}. help: leave it unset for the default.`,
  );
}

function checkCount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw optionError(field, value, 'an integer ≥ 0');
  return value;
}

function checkPositive(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw optionError(field, value, 'a finite number > 0');
  return value;
}
