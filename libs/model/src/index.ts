export { createModel } from './model.js';
export type { Batch, EvalResult, GradientResult, LayerMoments, Model } from './model.js';
export { MODEL_NAMES, NORM_KINDS, resolveModelConfig } from './model-config.js';
export type { ModelConfig, ModelName, NormKind, ResolvedModelConfig } from './model-config.js';
export { ModelError } from './model-error.js';
export type { ModelErrorCode } from './model-error.js';
export { flattenParams, unflattenParams, flatSize } from './flat-params.js';
export type { ParamSpec } from './flat-params.js';
export { tensorNorms, updateWeightRatios } from './layer-norms.js';
export { argmax, softmax, softmaxJacobian, logSumExp } from './softmax.js';
export { OP_SEMANTICS } from './graph.js';
export type { Activation, GraphNode, GraphOp } from './graph.js';
export { softmaxCrossEntropy, logSoftmax } from './loss.js';
export { batchNormTrain, batchNormEval, DEFAULT_BN_EPSILON } from './batch-norm.js';
export { fixupScale } from './resnet.js';
export {
  combineMoments,
  combineAllMoments,
  combineMicroBatchMoments,
  updateRunningStats,
  initRunningStats,
  runningStatsSize,
  runningStatsNames,
  DEFAULT_BN_MOMENTUM,
} from './bn-stats.js';
export type { BnSpec, BnMoments, CombinedMoments, RunningStatsOptions } from './bn-stats.js';
export { registerTrainingGradients } from './tf-gradients.js';
export { registerWasmTrainingKernels } from './kernels/index.js';
export type { WasmTrainingKernelOptions } from './kernels/index.js';
