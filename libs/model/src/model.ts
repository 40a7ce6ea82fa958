/**
 * A model as the rest of dptrain sees it: a flat parameter vector in, loss, gradients and
 * batch-norm statistics out. The model holds no tensors between calls: each call wraps the
 * caller's arrays as tensors, runs, reads the results into plain arrays and frees every tensor,
 * so there are no variables to keep in sync with the parameter server.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ForwardContext } from './architecture.js';
import { batchNormEval, batchNormTrain } from './batch-norm.js';
import { initRunningStats } from './bn-stats.js';
import type { BnSpec } from './bn-stats.js';
import { buildCnn } from './cnn.js';
import { checkFlatLength } from './flat-params.js';
import type { ParamSpec } from './flat-params.js';
import type { GraphNode } from './graph.js';
import { fillInit } from './init.js';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { gradientResult } from './gradient-result.js';
import { denseGradientsInto } from './grouped-gradients.js';
import { softmaxCrossEntropy } from './loss.js';
import { buildMlp } from './mlp.js';
import { resolveModelConfig } from './model-config.js';
import type { ModelConfig, ResolvedModelConfig } from './model-config.js';
import { ModelError } from './model-error.js';
import { streamState } from './prng.js';
import { buildResnet } from './resnet.js';
import { argmax, logSumExp } from './softmax.js';
import { registerTrainingGradients } from './tf-gradients.js';

/** `count` samples: `x` holds count × prod(inputShape) values (NHWC), `y` the class indices. */
export interface Batch {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
}

/** Moments of one batch-norm layer over one micro-batch; `variance` is biased (see bn-stats.ts). */
export interface LayerMoments {
  readonly count: number;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

export interface GradientResult {
  /** Mean softmax cross-entropy over the batch. */
  readonly loss: number;
  /** ∂loss/∂params, flat, in `paramSpecs` order. */
  readonly grads: Float32Array;
  /** One entry per batch-norm layer, in `bnSpecs` order. */
  readonly bnStats: readonly LayerMoments[];
  /** ‖∂loss/∂t‖₂ for each parameter tensor t, in `paramSpecs` order; computed on first access from `grads`. */
  readonly layerGradNorms: Float64Array;
}

export interface EvalResult {
  /** Σ over the batch of each sample's cross-entropy (computed in double precision from the logits). */
  readonly lossSum: number;
  /** Samples whose largest logit (the first, on ties) is their label. */
  readonly correct: number;
  readonly count: number;
  /** Each sample's predicted class: the index of its largest logit (the first, on ties). */
  readonly predicted: Int32Array;
}

export interface Model {
  readonly config: ResolvedModelConfig;
  readonly paramSpecs: readonly ParamSpec[];
  readonly paramCount: number;
  readonly bnSpecs: readonly BnSpec[];
  /** Length of the running-statistics vector: per batch-norm layer, mean[C] then variance[C]. */
  readonly bnStateSize: number;
  /** The evaluation-mode forward pass as data: layers in order, tensors by name (graph.ts). */
  readonly graph: readonly GraphNode[];
  /**
   * Initial parameters, a function of `seed` alone (the same bits on every backend): each tensor
   * is drawn from its own stream keyed by (seed, name); see init.ts for the schemes.
   * @throws {ModelError} `E_MODEL_SEED` when `seed` is not a non-negative safe integer.
   */
  init(seed: number): Float32Array;
  /** Running statistics to start from: means 0, variances 1. */
  initBnState(): Float32Array;
  /**
   * Loss, gradient and batch-norm batch statistics of one micro-batch at `params`. Batch norm
   * uses the micro-batch's own statistics. Writes the gradient into `out` when given (it must
   * have `paramCount` values), else into a new array. Same inputs on the same backend give the
   * same bits.
   * @throws {ModelError} `E_MODEL_PARAMS`, `E_MODEL_BATCH`, `E_MODEL_LABEL`, `E_MODEL_DISPOSED`.
   */
  computeGradients(params: Float32Array, batch: Batch, out?: Float32Array): GradientResult;
  /**
   * `computeGradients` of each batch at the same `params`, the same bits, into `outs[i]` when
   * given; a dense stack (the MLP) computes batches of one size in one pass, paying the per-call
   * costs once (grouped-gradients.ts), other models call computeGradients for each.
   */
  computeGradientsEach(params: Float32Array, batches: readonly Batch[], outs?: readonly Float32Array[]): GradientResult[];
  /**
   * Loss sum and correct count on `batch`, with batch norm using the running statistics `bnState`.
   * @throws {ModelError} `E_MODEL_PARAMS`, `E_MODEL_BN_STATE`, `E_MODEL_BATCH`, `E_MODEL_LABEL`, `E_MODEL_DISPOSED`.
   */
  evaluate(params: Float32Array, bnState: Float32Array, batch: Batch): EvalResult;
  /**
   * The logits of `count` samples (`x`: count × prod(inputShape) values, NHWC), `count` rows of
   * numClasses values, with batch norm using the running statistics `bnState`: the forward pass
   * `evaluate` scores.
   * @throws {ModelError} `E_MODEL_PARAMS`, `E_MODEL_BN_STATE`, `E_MODEL_BATCH`, `E_MODEL_DISPOSED`.
   */
  logits(params: Float32Array, bnState: Float32Array, x: Float32Array, count: number): Float32Array;
  /** Marks the model unusable; it holds no tensors, so nothing else needs freeing. */
  dispose(): void;
}

function buildArchitecture(config: ResolvedModelConfig): Architecture {
  switch (config.name) {
    case 'mlp':
      return buildMlp(config.inputShape, config.hidden!, config.numClasses);
    case 'cnn':
      return buildCnn(config.inputShape, config.channels!, config.numClasses, config.bnEpsilon);
    case 'resnet':
      return buildResnet(config.inputShape, config.numClasses, config.blocks!, config.width!, config.norm!, config.bnEpsilon);
  }
}

/**
 * Builds the model `config` describes (validated, defaults filled in). Registers the gradient
 * functions and wasm training kernels TensorFlow.js needs; call `initBackend` before using it.
 * @throws {ModelError} `E_MODEL_CONFIG` for an invalid config.
 */
export function createModel(config: ModelConfig): Model {
  const resolved = resolveModelConfig(config);
  registerTrainingGradients();
  registerWasmTrainingKernels();
  const arch = buildArchitecture(resolved);
  const { params: decls, bn: bnLayers, paramCount, bnStateSize } = arch.layout;
  const paramSpecs: readonly ParamSpec[] = decls.map(({ name, shape, offset, size }) => ({ name, shape, offset, size }));
  const bnSpecs: readonly BnSpec[] = bnLayers.map((l) => l.spec);
  const { inputShape, numClasses, bnEpsilon } = resolved;
  const sampleSize = inputShape.reduce((a, d) => a * d, 1);
  let disposed = false;

  const ensureLive = (): void => {
    if (disposed) throw new ModelError('E_MODEL_DISPOSED', `the ${resolved.name} model was disposed; create a new one with createModel()`);
  };

  const checkInputs = (x: Float32Array, count: number): void => {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new ModelError('E_MODEL_BATCH', `batch count ${count} is not a positive integer`);
    }
    if (x.length !== count * sampleSize) {
      throw new ModelError(
        'E_MODEL_BATCH',
        `batch x has ${x.length} values but count ${count} × input [${inputShape.join(', ')}] needs ${count * sampleSize}; pass exactly the batch (a subarray view costs nothing)`,
      );
    }
  };

  const checkBatch = (batch: Batch): void => {
    const { count, x, y } = batch;
    checkInputs(x, count);
    if (y.length !== count) {
      throw new ModelError('E_MODEL_BATCH', `batch y has ${y.length} labels but count is ${count}; pass one label per sample`);
    }
    for (let i = 0; i < count; i++) {
      if (y[i] < 0 || y[i] >= numClasses) {
        throw new ModelError('E_MODEL_LABEL', `label ${y[i]} of sample ${i} is outside [0, ${numClasses}); set numClasses to the dataset's class count`);
      }
    }
  };

  const checkBnState = (bnState: Float32Array): void => {
    if (bnState.length !== bnStateSize) {
      throw new ModelError(
        'E_MODEL_BN_STATE',
        `running statistics have ${bnState.length} values but this model's batch-norm layers need ${bnStateSize}; start from initBnState()`,
      );
    }
  };

  /** Wraps the caller's arrays as tensors (the cpu backend aliases them, wasm copies). */
  const paramTensors = (params: Float32Array): tf.Tensor[] =>
    decls.map((d) => tf.tensor(params.subarray(d.offset, d.offset + d.size), d.shape as number[], 'float32'));
  const inputTensor = (x: Float32Array, count: number): tf.Tensor => tf.tensor(x, [count, ...inputShape], 'float32');

  /** The evaluation-mode forward pass, batch norm on the running statistics (inputs checked). */
  const evalLogits = (params: Float32Array, bnState: Float32Array, x: Float32Array, count: number): Float32Array =>
    tf.tidy(() => {
      const p = paramTensors(params);
      const ctx: ForwardContext = {
        param: (i) => p[i],
        batchNorm(layer, h) {
          const { offset, channels } = layer.spec;
          const mean = tf.tensor1d(bnState.subarray(offset, offset + channels));
          const variance = tf.tensor1d(bnState.subarray(offset + channels, offset + 2 * channels));
          return batchNormEval(h, p[layer.gamma] as tf.Tensor1D, p[layer.beta] as tf.Tensor1D, mean, variance, bnEpsilon);
        },
      };
      return Float32Array.from(arch.forward(ctx, inputTensor(x, count)).dataSync());
    });

  return {
    config: resolved,
    paramSpecs,
    paramCount,
    bnSpecs,
    bnStateSize,
    graph: arch.graph,

    init(seed) {
      ensureLive();
      streamState(seed, '');
      const out = new Float32Array(paramCount);
      for (const d of decls) fillInit(out.subarray(d.offset, d.offset + d.size), d.init, seed, d.name);
      return out;
    },

    initBnState() {
      return initRunningStats(bnSpecs);
    },

    computeGradients(params, batch, out = new Float32Array(paramCount)) {
      ensureLive();
      checkFlatLength(params, paramSpecs, 'parameter vector');
      checkFlatLength(out, paramSpecs, 'gradient output array');
      checkBatch(batch);
      // Batch-norm moments escape the gradient computation's scopes (tf.keep); freed in `finally`.
      const moments: { count: number; mean: tf.Tensor; variance: tf.Tensor }[] = [];
      try {
        const loss = tf.tidy(() => {
          const x = inputTensor(batch.x, batch.count);
          const oneHot = tf.cast(tf.oneHot(tf.tensor1d(batch.y, 'int32'), numClasses), 'float32') as tf.Tensor2D;
          const lossOf = (...p: tf.Tensor[]): tf.Scalar => {
            const ctx: ForwardContext = {
              param: (i) => p[i],
              batchNorm(layer, h) {
                const r = batchNormTrain(h, p[layer.gamma] as tf.Tensor1D, p[layer.beta] as tf.Tensor1D, bnEpsilon);
                moments[layer.index] = { count: h.size / layer.spec.channels, mean: r.mean, variance: r.variance };
                return r.y;
              },
            };
            return softmaxCrossEntropy(arch.forward(ctx, x), oneHot);
          };
          const { value, grads } = tf.valueAndGrads(lossOf)(paramTensors(params));
          grads.forEach((g, i) => {
            // Every declared tensor feeds the loss; a missing gradient is a bug in an architecture.
            if (g === undefined) throw new Error(`parameter ${decls[i].name} does not affect the loss; its architecture declares it but never uses it`);
            out.set(g.dataSync() as Float32Array, decls[i].offset);
          });
          return value.dataSync()[0];
        });
        const bnStats = moments.map((m) => ({
          count: m.count,
          mean: new Float32Array(m.mean.dataSync() as Float32Array),
          variance: new Float32Array(m.variance.dataSync() as Float32Array),
        }));
        return gradientResult(loss, out, bnStats, paramSpecs);
      } finally {
        for (const m of moments) tf.dispose([m.mean, m.variance]);
      }
    },

    computeGradientsEach(params, batches, outs = batches.map(() => new Float32Array(paramCount))) {
      const stack = arch.denseStack;
      if (!stack || batches.length < 2 || batches.some((b) => b.count !== batches[0]!.count))
        return batches.map((b, i) => this.computeGradients(params, b, outs[i]));
      ensureLive();
      checkFlatLength(params, paramSpecs, 'parameter vector');
      for (const out of outs) checkFlatLength(out, paramSpecs, 'gradient output array');
      batches.forEach(checkBatch);
      const losses = denseGradientsInto(stack, () => paramTensors(params), batches, outs, { offsets: decls.map((d) => d.offset), numClasses, sampleSize });
      return losses.map((loss, g) => gradientResult(loss, outs[g]!, [], paramSpecs));
    },

    evaluate(params, bnState, batch) {
      ensureLive();
      checkFlatLength(params, paramSpecs, 'parameter vector');
      checkBnState(bnState);
      checkBatch(batch);
      const logits = evalLogits(params, bnState, batch.x, batch.count);
      let lossSum = 0;
      let correct = 0;
      const predicted = new Int32Array(batch.count);
      for (let i = 0; i < batch.count; i++) {
        const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
        lossSum += logSumExp(row) - row[batch.y[i]];
        predicted[i] = argmax(row);
        if (predicted[i] === batch.y[i]) correct++;
      }
      return { lossSum, correct, count: batch.count, predicted };
    },

    logits(params, bnState, x, count) {
      ensureLive();
      checkFlatLength(params, paramSpecs, 'parameter vector');
      checkBnState(bnState);
      checkInputs(x, count);
      return evalLogits(params, bnState, x, count);
    },

    dispose() {
      disposed = true;
    },
  };
}
