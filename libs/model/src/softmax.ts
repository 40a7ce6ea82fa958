/**
 * The softmax function and its Jacobian in plain JavaScript (double precision), as the lecture
 * derives them (§4). They serve as references for the TensorFlow.js loss and for tests; training
 * never forms the Jacobian (the loss gradient is (S − one-hot)/N directly, §5).
 */

/**
 * S_j = e^{x_j} / Σ_k e^{x_k}, computed as e^{x_j + ln C} / Σ_k e^{x_k + ln C} with
 * ln C = −max_k x_k (lecture §4), so that no exponent is positive and large inputs cannot overflow.
 * @example softmax([1, 2, 3]) // ≈ [0.090, 0.245, 0.665]
 */
export function softmax(x: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const out = new Float64Array(x.length);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    out[i] = Math.exp(x[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < x.length; i++) out[i] /= sum;
  return out;
}

/**
 * The index of the largest value, the first one on ties: the class a row of logits (or of
 * probabilities) predicts.
 */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < x.length; k++) if (x[k] > x[best]) best = k;
  return best;
}

/**
 * ln Σ_k e^{x_k} with the same max subtraction: max + ln Σ_k e^{x_k − max}. The cross-entropy of
 * one sample with label y is `logSumExp(x) − x[y]`.
 */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
}

/**
 * The Jacobian D of the softmax at x: D[i][j] = ∂S_i/∂x_j = S_i(δ_ij − S_j) (lecture §4), that is
 * S_i(1 − S_i) on the diagonal and −S_i·S_j off it. Row i is `D[i]`.
 */
export function softmaxJacobian(x: ArrayLike<number>): Float64Array[] {
  const s = softmax(x);
  const n = s.length;
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = s[i] * ((i === j ? 1 : 0) - s[j]);
    rows.push(row);
  }
  return rows;
}
