import type { Model } from '@dptrain/model';
import { runningStatsNames } from '@dptrain/model/stats';
import type { Tensor } from '@dptrain/safetensors';

/**
 * The model's state as named tensors, as `params.safetensors` and checkpoints store it: one tensor
 * per parameter (its `paramSpecs` name and shape, a view into `params`), then for each batch-norm
 * layer `<layer>/running_mean` and `<layer>/running_var`.
 */
export function modelTensors(model: Model, params: Float32Array, bnState: Float32Array): [string, Tensor][] {
  const out: [string, Tensor][] = model.paramSpecs.map((spec) => [
    spec.name,
    { shape: spec.shape, data: params.subarray(spec.offset, spec.offset + spec.size) },
  ]);
  for (const bn of model.bnSpecs) {
    const { mean, variance } = runningStatsNames(bn.name);
    out.push([mean, { shape: [bn.channels], data: bnState.subarray(bn.offset, bn.offset + bn.channels) }]);
    out.push([variance, { shape: [bn.channels], data: bnState.subarray(bn.offset + bn.channels, bn.offset + 2 * bn.channels) }]);
  }
  return out;
}
