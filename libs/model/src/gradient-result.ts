import type { ParamSpec } from './flat-params.js';
import { tensorNorms } from './layer-norms.js';
import type { GradientResult, LayerMoments } from './model.js';

/**
 * A micro-batch's result. The per-tensor norms cost a pass over the gradient and most callers
 * never read them, so they are computed on first access (read them before reusing `grads`).
 */
export function gradientResult(loss: number, grads: Float32Array, bnStats: readonly LayerMoments[], specs: readonly ParamSpec[]): GradientResult {
  let norms: Float64Array | undefined;
  return {
    loss,
    grads,
    bnStats,
    get layerGradNorms() {
      norms ??= tensorNorms(grads, specs);
      return norms;
    },
  };
}
