/**
 * Batch normalization (lecture §6; Ioffe & Szegedy 2015, Algorithm 1) over the last axis of an
 * [N, C] or [N, H, W, C] tensor, per channel over all other axes (m = N·H·W values):
 *   μ = (1/m) Σ x,  σ² = (1/m) Σ (x − μ)²  (biased),  x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β.
 * Training normalizes with the batch's own μ and σ² and reports them; evaluation uses running
 * statistics supplied by the caller (the parameter server owns them; see bn-stats.ts).
 *
 * The backward pass is the paper's, simplified:
 *   ∂β = Σ dy,  ∂γ = Σ dy·x̂,  ∂x = (γ/(m·√(σ² + ε)))·(m·dy − Σ dy − x̂·Σ dy·x̂).
 */
import * as tf from '@tensorflow/tfjs-core';

/** ε inside the square root, as in PyTorch (Keras uses 1e−3). */
export const DEFAULT_BN_EPSILON = 1e-5;

function reductionAxes(x: tf.Tensor): number[] {
  return x.rank === 4 ? [0, 1, 2] : [0];
}

export interface BatchNormTraining {
  readonly y: tf.Tensor;
  /** μ_B per channel; kept (survives tidy scopes): the caller disposes it. */
  readonly mean: tf.Tensor1D;
  /** Biased σ²_B per channel; kept: the caller disposes it. */
  readonly variance: tf.Tensor1D;
}

/** Training-mode batch normalization with the batch's own statistics. */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTraining {
  const axes = reductionAxes(x);
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const moments = tf.moments(xIn, axes);
    mean = tf.keep(moments.mean as tf.Tensor1D);
    variance = tf.keep(moments.variance as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xHat = tf.mul(tf.sub(xIn, mean), invStd);
    save([xHat, invStd, g]);
    return {
      value: tf.add(tf.mul(xHat, g), b),
      gradFunc: (dy: tf.Tensor, [xh, inv, gs]: tf.Tensor[]) => {
        const m = xh.size / xh.shape[xh.rank - 1];
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xh), axes);
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, m)), tf.mul(xh, tf.div(dGamma, m)));
        return [tf.mul(tf.mul(gs, inv), centred), dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

/** Evaluation-mode batch normalization with given running statistics. */
export function batchNormEval(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVariance: tf.Tensor1D,
  epsilon: number,
): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.sub(x, runningMean), tf.mul(tf.rsqrt(tf.add(runningVariance, epsilon)), gamma)), beta));
}
