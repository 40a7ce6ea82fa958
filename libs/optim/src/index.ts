export { createOptimizer } from './create-optimizer.js';
export { OPTIMIZER_NAMES, HYPER_PARAMETER_NAMES } from './types.js';
export type { Optimizer, OptimizerBuffers, OptimizerConfig, OptimizerName, OptimizerState, HyperParameterName, ResolvedConfig } from './types.js';
export { OptimError } from './optim-error.js';
export type { OptimErrorCode } from './optim-error.js';

// The pure in-place steps in plain JavaScript (PyTorch's functional layer): the reference the
// WebAssembly kernels of `createOptimizer` are tested against. They round differently from the
// kernels (double-precision intermediates), so never mix the two within one run.
export { sgdStep } from './sgd.js';
export type { SgdHyperParameters } from './sgd.js';
export { momentumStep } from './momentum.js';
export type { MomentumHyperParameters } from './momentum.js';
export { nesterovLookahead } from './nesterov.js';
export { adagradStep } from './adagrad.js';
export type { AdagradHyperParameters } from './adagrad.js';
export { adadeltaStep } from './adadelta.js';
export type { AdadeltaHyperParameters } from './adadelta.js';
export { adamStep } from './adam.js';
export type { AdamHyperParameters } from './adam.js';
export type { AdamwHyperParameters } from './adamw.js';
export { rmspropStep } from './rmsprop.js';
export type { RmspropHyperParameters } from './rmsprop.js';
export { LbfgsOptimizer } from './lbfgs.js';
export type { LbfgsHyperParameters } from './lbfgs.js';
export { minimizeLbfgs } from './lbfgs-minimize.js';
export type { LossAndGradient, MinimizeLbfgsOptions, MinimizeLbfgsResult } from './lbfgs-minimize.js';

export { clipByGlobalNorm, globalNorm } from './clip.js';
export { constantSchedule, stepSchedule, cosineSchedule, withWarmup, linearScaledLr, createSchedule, SCHEDULE_KINDS } from './schedule.js';
export type { LearningRateSchedule, ScheduleConfig, ScheduleKind } from './schedule.js';
export { accumulate, scale, scaleFromZero, meanInOrder } from './aggregate.js';
export { GradientSum } from './gradient-sum.js';
