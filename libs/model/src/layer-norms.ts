/**
 * Per-tensor diagnostics that make exploding and vanishing gradients visible (lecture §3): the
 * L2 norm of each parameter tensor's slice of a flat vector, and the ratio ‖Δw‖/‖w‖ of an update
 * to the weights it changed (healthy training keeps it near 1e−3; orders of magnitude above or
 * below, layer by layer, is the symptom).
 */
import { checkFlatLength } from './flat-params.js';
import type { ParamSpec } from './flat-params.js';

/** ‖v_t‖₂ for each tensor t of `flat` (gradients, weights or updates), in `specs` order. */
export function tensorNorms(flat: ArrayLike<number>, specs: readonly ParamSpec[]): Float64Array {
  checkFlatLength(flat, specs, 'vector');
  const out = new Float64Array(specs.length);
  specs.forEach((s, t) => {
    let sum = 0;
    for (let i = s.offset; i < s.offset + s.size; i++) sum += flat[i] * flat[i];
    out[t] = Math.sqrt(sum);
  });
  return out;
}

/**
 * ‖after_t − before_t‖₂ / ‖before_t‖₂ for each tensor t. A tensor that starts at zero (Fixup's
 * last branch layers, the classifier) has ratio `Infinity` once it moves, and 0 while it does not.
 */
export function updateWeightRatios(before: ArrayLike<number>, after: ArrayLike<number>, specs: readonly ParamSpec[]): Float64Array {
  checkFlatLength(before, specs, 'weights before the update');
  checkFlatLength(after, specs, 'weights after the update');
  const out = new Float64Array(specs.length);
  specs.forEach((s, t) => {
    let du = 0;
    let w = 0;
    for (let i = s.offset; i < s.offset + s.size; i++) {
      const d = after[i] - before[i];
      du += d * d;
      w += before[i] * before[i];
    }
    out[t] = du === 0 ? 0 : Math.sqrt(du) / Math.sqrt(w);
  });
  return out;
}
