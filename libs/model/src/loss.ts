/**
 * Softmax cross-entropy from logits, in TensorFlow.js.
 *
 * Forward (lecture §4): with ln C = −max_k z_k per row, log S_j = (z_j + ln C) − ln Σ_k e^{z_k + ln C},
 * so no exponent is positive and logits of any magnitude give a finite loss.
 * Loss = −(1/N) Σ_i log S_{i,y_i}, the mean over the batch.
 * Backward (lecture §5): ∂loss/∂z = (S − one-hot)/N, written out instead of differentiating
 * through the max, so the gradient is exact and cheap.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Row-wise log-softmax with the max subtraction. */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, 1, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
  });
}

/**
 * Mean softmax cross-entropy of `logits` [N, K] against `oneHot` [N, K], as a scalar whose
 * gradient with respect to `logits` is (softmax(logits) − oneHot)/N. `oneHot` is a constant.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  const n = logits.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const logProb = logSoftmax(z as tf.Tensor2D);
    save([logProb]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(oneHot, logProb))), n) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, [lp]: tf.Tensor[]) => tf.mul(dy, tf.div(tf.sub(tf.exp(lp), oneHot), n)),
    };
  });
  return op(logits);
}
