/**
 * Test support for the wasm training kernels: seeded inputs, one kernel run on a named backend,
 * and the rounding-error bound that two correct float32 implementations must satisfy.
 * Tests only; production code never imports this.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** Unit roundoff of float32. */
export const U32 = 2 ** -24;

/**
 * γ_n = n·u / (1 − n·u): a float32 sum of n products, in any order (sequential, blocked,
 * pairwise, with or without fused multiply-add), differs from the exact sum by at most
 * γ_n · Σ|terms| (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
 */
export function gamma(n: number): number {
  return (n * U32) / (1 - n * U32);
}

/** Uniform values in [−1, 1) from a seeded generator (mulberry32); `step` > 0 rounds them to multiples of `step`, which makes ties. */
export function seededValues(count: number, seed: number, step = 0): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const v = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
    out[i] = step > 0 ? Math.round(v / step) * step : v;
  }
  return out;
}

export type KernelInputs = Record<string, { values: Float32Array; shape: number[] }>;

/** Runs one kernel on `backendName` through the engine and returns its output's values and shape. */
export async function runKernelOn(
  backendName: 'cpu' | 'wasm',
  kernelName: string,
  inputs: KernelInputs,
  attrs: object,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backendName);
  const tensors: tf.NamedTensorMap = {};
  for (const [name, { values, shape }] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape);
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

/** `inputs` with every value replaced by its absolute value: run through a bilinear kernel it gives Σ|terms|. */
export function absInputs(inputs: KernelInputs): KernelInputs {
  const out: KernelInputs = {};
  for (const [name, { values, shape }] of Object.entries(inputs)) out[name] = { values: values.map(Math.abs), shape };
  return out;
}

/**
 * Largest |a − b| / bound over elements (≤ 1 passes), where bound = 2·γ_n·Σ|terms|·(1 + γ_n):
 * each of two correct implementations is within γ_n·Σ|terms| of the exact value, and `absTerms`
 * (Σ|terms| computed in float32) is itself within a factor (1 + γ_n) of the exact one. Where the
 * bound is 0 (all terms zero) the values must be equal.
 */
export function worstBoundRatio(a: Float32Array, b: Float32Array, absTerms: Float32Array, n: number): number {
  if (a.length !== b.length || a.length !== absTerms.length) {
    throw new RangeError(`length mismatch: ${a.length}, ${b.length}, ${absTerms.length}`);
  }
  const g = gamma(n);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    const bound = 2 * g * absTerms[i] * (1 + g);
    const ratio = bound === 0 ? (diff === 0 ? 0 : Infinity) : diff / bound;
    if (!(ratio <= worst)) worst = ratio;
  }
  return worst;
}
