import type { JobConfig } from '@dptrain/config';
import { gather, holdoutSplit, subset, type Dataset, type Split } from '@dptrain/data';
import { combineMicroBatchMoments, createModel, tensorNorms, updateRunningStats, updateWeightRatios, type LayerMoments, type Model } from '@dptrain/model';
import { GradientSum, scaleFromZero } from '@dptrain/optim';
import { evaluateSplit, type Evaluation } from './evaluate.js';
import { modelConfigOf, planOf } from '@dptrain/job';
import type { TrainerState } from './trainer-checkpoint.js';
import { UpdateRule } from './update-rule.js';

/**
 * The records of metrics.jsonl (DESIGN.md, "Files a run leaves"; the run folder adds `time`).
 * `step` counts the steps done (1, 2, …); `epoch` is the epoch the step belongs to, or that an
 * evaluation ends, counted from 1 as the progress display counts them.
 */
export interface StepRecord {
  readonly kind: 'step';
  readonly step: number;
  readonly epoch: number;
  /** Mean over the micro-batches of their mean losses (taken at the gradient point). */
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
}

export interface EvalRecord {
  readonly kind: 'eval';
  readonly step: number;
  readonly epoch: number;
  readonly split: 'validation' | 'test';
  readonly loss: number;
  readonly accuracy: number;
}

/**
 * Per-tensor diagnostics of one step (lecture §3: exploding and vanishing gradients show as
 * gradient norms or update/weight ratios orders of magnitude apart between layers): the ℓ2 norm
 * of each tensor's slice of the step's mean gradient, and ‖Δw‖/‖w‖ of the update it caused.
 */
export interface LayerRecord {
  readonly kind: 'layers';
  readonly step: number;
  readonly epoch: number;
  readonly names: readonly string[];
  readonly gradNorms: readonly number[];
  /** null where the tensor was all zeros before the update (biases, Fixup's zero-initialised layers at step 1). */
  readonly updateRatios: readonly (number | null)[];
}

export interface TrainingResult {
  readonly model: Model;
  readonly params: Float32Array;
  readonly bnState: Float32Array;
  readonly steps: number;
  readonly epochs: number;
  readonly samples: number;
  /** Mean training loss over the last epoch's steps. */
  readonly trainLoss: number;
  readonly test: Evaluation;
  readonly validation?: Evaluation;
}

export interface TrainingHooks {
  /** Continue a run from this state (its steps are not taken again). */
  readonly resume?: TrainerState;
  /** Called every `config.checkpointEvery` steps and at each epoch's end (after its evaluation) with what resume needs. */
  onCheckpoint?(state: TrainerState): void | Promise<void>;
  /** After each step, with the plan's size (the number of steps this run takes, and per epoch). */
  onStep?(record: StepRecord, plan: { readonly totalSteps: number; readonly stepsPerEpoch: number }): void | Promise<void>;
  onEval?(record: EvalRecord): void | Promise<void>;
  /** Called for the first step and the last step of every epoch. */
  onLayers?(record: LayerRecord): void | Promise<void>;
}

/** The training split and, with `holdout` > 0, the validation split carved from it (seeded). */
export function trainingSplits(config: JobConfig, dataset: Dataset): { train: Split; validation?: Split } {
  if (config.holdout === 0) return { train: dataset.train };
  const { train, validation } = holdoutSplit(dataset.train, { fraction: config.holdout, seed: config.seed });
  return { train: subset(dataset.train, train), validation: subset(dataset.train, validation) };
}

/**
 * The single-process reference trainer: the contract the cluster must match bit for bit. Each
 * step takes the plan's micro-batches in id order, computes each one's gradient at the update
 * rule's gradient point, sums them in that order, scales by 1/M, and applies one update; the
 * batch-norm moments of the micro-batches are combined in the same order and folded into the
 * running statistics.
 */
export async function trainReference(config: JobConfig, dataset: Dataset, hooks: TrainingHooks = {}): Promise<TrainingResult> {
  const { train, validation } = trainingSplits(config, dataset);
  const model = createModel(modelConfigOf(config, dataset.inputShape, dataset.numClasses));
  const plan = planOf(config, train.count);
  const totalSteps = Math.min(plan.totalSteps, config.steps ?? Number.POSITIVE_INFINITY);
  const rule = new UpdateRule(config, model.paramCount, totalSteps, plan.stepsPerEpoch);
  // The optimizer's own buffers: its WebAssembly kernels then update them without copies.
  const { params, grads: meanGrad, point } = rule.optimizer.buffers;
  params.set(model.init(config.seed));
  const bnState = model.initBnState();
  // A step's micro-batches are computed together (Model.computeGradientsEach: one pass for the
  // MLP, each its own call otherwise, the same bits) and added in id order.
  const sum = new GradientSum(model.paramCount);
  const buffers: { x: Float32Array; y: Int32Array }[] = [];
  const grads: Float32Array[] = [];
  const slot = (i: number): { x: Float32Array; y: Int32Array } => {
    while (buffers.length <= i) {
      buffers.push({ x: new Float32Array(config.microBatchSize * train.features), y: new Int32Array(config.microBatchSize) });
      grads.push(new Float32Array(model.paramCount));
    }
    return buffers[i]!;
  };

  let epochLossSum = 0;
  let epochSteps = 0;
  let trainLoss = Number.NaN;
  const first = hooks.resume?.step ?? 0;
  if (hooks.resume) {
    params.set(hooks.resume.params);
    bnState.set(hooks.resume.bnState);
    rule.optimizer.load(hooks.resume.optimizer);
    ({ epochLossSum, epochSteps, trainLoss } = hooks.resume);
  }
  let validationResult: Evaluation | undefined;
  const evaluate = async (step: number, epoch: number): Promise<void> => {
    if (validation) {
      validationResult = evaluateSplit(model, params, bnState, validation);
      await hooks.onEval?.({ kind: 'eval', step, epoch, split: 'validation', loss: validationResult.loss, accuracy: validationResult.accuracy });
    }
    const test = evaluateSplit(model, params, bnState, dataset.test);
    await hooks.onEval?.({ kind: 'eval', step, epoch, split: 'test', loss: test.loss, accuracy: test.accuracy });
  };

  for (let t = first; t < totalSteps; t++) {
    const { epoch: epochIndex, microBatches } = plan.step(t);
    const epoch = epochIndex + 1;
    const at = rule.gradientPoint(params, point);
    sum.reset();
    const moments: (readonly LayerMoments[])[] = [];
    let lossSum = 0;
    const batches = microBatches.map((mb, i) => gather(train, mb.indices, slot(i)));
    for (const result of model.computeGradientsEach(at, batches, grads.slice(0, batches.length))) {
      sum.add(result.grads);
      moments.push(result.bnStats);
      lossSum += result.loss;
    }
    // (0 + sum)·(1/M), one pass into the optimizer's buffer: sum·(1/M), as a sum folded from +0 is never −0.
    scaleFromZero(meanGrad, sum.sum, 1 / microBatches.length);
    const epochEnds = (t + 1) % plan.stepsPerEpoch === 0 || t + 1 === totalSteps;
    // Diagnostics cost two passes and a copy of the parameters, so only a few steps take them.
    const diagnose = hooks.onLayers !== undefined && (t === 0 || epochEnds);
    const before = diagnose ? params.slice() : undefined;
    const gradNorms = diagnose ? Array.from(tensorNorms(meanGrad, model.paramSpecs)) : [];
    const { lr, gradNorm } = rule.apply(params, meanGrad);
    if (before) {
      const updateRatios = Array.from(updateWeightRatios(before, params, model.paramSpecs), (r) => (Number.isFinite(r) ? r : null));
      await hooks.onLayers!({ kind: 'layers', step: t + 1, epoch, names: model.paramSpecs.map((p) => p.name), gradNorms, updateRatios });
    }
    if (model.bnSpecs.length > 0) {
      updateRunningStats(bnState, model.bnSpecs, combineMicroBatchMoments(moments), { momentum: config.bnMomentum });
    }
    const loss = lossSum / microBatches.length;
    epochLossSum += loss;
    epochSteps += 1;
    await hooks.onStep?.({ kind: 'step', step: t + 1, epoch, loss, lr, gradNorm }, { totalSteps, stepsPerEpoch: plan.stepsPerEpoch });
    if (epochEnds) {
      trainLoss = epochLossSum / epochSteps;
      epochLossSum = 0;
      epochSteps = 0;
      if (t + 1 < totalSteps) await evaluate(t + 1, epoch);
    }
    const every = config.checkpointEvery;
    if (hooks.onCheckpoint && t + 1 < totalSteps && (epochEnds || (every > 0 && (t + 1) % every === 0))) {
      await hooks.onCheckpoint({ step: t + 1, params, optimizer: rule.optimizer.state(), bnState, epochLossSum, epochSteps, trainLoss });
    }
  }
  const lastEpoch = totalSteps === 0 ? 0 : plan.step(totalSteps - 1).epoch + 1;
  if (validation) {
    validationResult = evaluateSplit(model, params, bnState, validation);
    await hooks.onEval?.({
      kind: 'eval',
      step: totalSteps,
      epoch: lastEpoch,
      split: 'validation',
      loss: validationResult.loss,
      accuracy: validationResult.accuracy,
    });
  }
  const test = evaluateSplit(model, params, bnState, dataset.test);
  await hooks.onEval?.({ kind: 'eval', step: totalSteps, epoch: lastEpoch, split: 'test', loss: test.loss, accuracy: test.accuracy });
  return {
    model,
    params,
    bnState,
    steps: totalSteps,
    epochs: lastEpoch,
    samples: (totalSteps - first) * config.batchSize,
    trainLoss,
    test,
    ...(validationResult ? { validation: validationResult } : {}),
  };
}
