import { adadelta } from './adadelta.js';
import { adagrad } from './adagrad.js';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import { ElementwiseOptimizer } from './elementwise-optimizer.js';
import { checkOptimizerName } from './hyper-parameters.js';
import { LbfgsOptimizer } from './lbfgs.js';
import { momentum } from './momentum.js';
import { nesterov } from './nesterov.js';
import { OptimError, describe } from './optim-error.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';
import type { Optimizer, OptimizerConfig, OptimizerName } from './types.js';

type Build = (config: OptimizerConfig, size: number) => Optimizer;

const BUILDERS: Readonly<Record<OptimizerName, Build>> = {
  sgd: (config, size) => new ElementwiseOptimizer(sgd, config, size),
  momentum: (config, size) => new ElementwiseOptimizer(momentum, config, size),
  nesterov: (config, size) => new ElementwiseOptimizer(nesterov, config, size),
  adagrad: (config, size) => new ElementwiseOptimizer(adagrad, config, size),
  adadelta: (config, size) => new ElementwiseOptimizer(adadelta, config, size),
  adam: (config, size) => new ElementwiseOptimizer(adam, config, size),
  adamw: (config, size) => new ElementwiseOptimizer(adamw, config, size),
  rmsprop: (config, size) => new ElementwiseOptimizer(rmsprop, config, size),
  lbfgs: (config, size) => new LbfgsOptimizer(config, size),
};

/**
 * Builds the optimizer `config.name` for a flat parameter vector (or shard) of `size` elements,
 * with `config`'s hyper-parameters over the optimizer's defaults (see `OptimizerConfig`).
 *
 * The element-wise optimizers (all but lbfgs) allocate here, once, a WebAssembly memory holding
 * params, grads, the look-ahead point (nesterov only) and their slots, and run their update as a
 * float32 SIMD kernel in it; `opt.buffers` are views of that memory, used without copies.
 * @throws {OptimError} E_OPTIM_NAME for an unknown name, E_OPTIM_FIELD for a field the optimizer
 *   does not use, E_OPTIM_HYPERPARAMETER for a value out of range, E_OPTIM_SIZE for a bad size or
 *   one whose buffers do not fit in a WebAssembly memory, E_OPTIM_SIMD without WebAssembly SIMD.
 * @example
 * const opt = createOptimizer({ name: 'adam', lr: 1e-3 }, init.length);
 * const { params, grads, point } = opt.buffers;  // zero-copy arrays, zero at first
 * params.set(init);
 * const at = opt.lookahead(params, point) ? point : params; // where workers take the gradient
 * computeGradientInto(at, grads);
 * opt.step(params, grads);
 */
export function createOptimizer(config: OptimizerConfig, size: number): Optimizer {
  if (typeof config !== 'object' || config === null) {
    throw new OptimError(
      'E_OPTIM_NAME',
      'config',
      config,
      `createOptimizer: config must be an object such as { name: 'adam' }, got ${describe(config)}. help: pass at least the optimizer's name.`,
    );
  }
  return BUILDERS[checkOptimizerName(config.name)](config, size);
}
