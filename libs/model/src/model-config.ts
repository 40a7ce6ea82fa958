/**
 * The model configuration: which architecture, its sizes, and validation that rejects impossible
 * or misdirected settings before anything is built.
 */
import { DEFAULT_BN_EPSILON } from './batch-norm.js';
import { ModelError } from './model-error.js';

export const MODEL_NAMES = ['mlp', 'cnn', 'resnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * How a residual network keeps its signal in range:
 * - `batchnorm`: batch normalization after every convolution (He et al. 2016);
 * - `fixup`: no normalization, Fixup initialisation with scalar biases and multipliers (Zhang et al. 2019);
 * - `none`: no normalization, plain He initialisation (deep stacks explode; kept as the baseline).
 */
export const NORM_KINDS = ['batchnorm', 'fixup', 'none'] as const;
export type NormKind = (typeof NORM_KINDS)[number];

export interface ModelConfig {
  readonly name: ModelName;
  /**
   * Shape of one sample, without the batch axis: [height, width, channels] (NHWC) or [features].
   * @default [28, 28, 1]
   */
  readonly inputShape?: readonly number[];
  /** @default 10 */
  readonly numClasses?: number;
  /** `mlp` only: width of each hidden layer (each followed by ReLU). @default [256, 128] */
  readonly hidden?: readonly number[];
  /** `cnn` only: output channels of each block conv3×3 → BN → ReLU → maxpool 2. @default [16, 32] */
  readonly channels?: readonly number[];
  /** `resnet` only: number of residual blocks. @default 3 */
  readonly blocks?: number;
  /** `resnet` only: channels (image input) or units (vector input) of the stem and every block. @default 16 */
  readonly width?: number;
  /** `resnet` only. @default 'batchnorm' */
  readonly norm?: NormKind;
  /** ε inside the square root of every batch-norm layer. @default 1e-5 */
  readonly bnEpsilon?: number;
}

/** A validated config with every default that applies to its architecture filled in. */
export type ResolvedModelConfig = ModelConfig & {
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  readonly bnEpsilon: number;
};

const ONLY_FOR: Record<'hidden' | 'channels' | 'blocks' | 'width' | 'norm', ModelName> = {
  hidden: 'mlp',
  channels: 'cnn',
  blocks: 'resnet',
  width: 'resnet',
  norm: 'resnet',
};

function fail(message: string): never {
  throw new ModelError('E_MODEL_CONFIG', message);
}

function positiveInts(field: string, value: readonly number[], allowEmpty: boolean): readonly number[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    fail(`${field} must be ${allowEmpty ? 'an' : 'a non-empty'} array of positive integers, got ${JSON.stringify(value)}`);
  }
  for (const v of value) {
    if (!Number.isSafeInteger(v) || v < 1) fail(`${field} must hold positive integers, got ${JSON.stringify(value)}`);
  }
  return [...value];
}

function positiveInt(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) fail(`${field} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Validates `config` and fills in defaults.
 * @throws {ModelError} `E_MODEL_CONFIG` naming the field, its value and what is accepted.
 */
export function resolveModelConfig(config: ModelConfig): ResolvedModelConfig {
  const { name } = config;
  if (!MODEL_NAMES.includes(name)) fail(`model name "${name}" is unknown; use one of ${MODEL_NAMES.join(', ')}`);
  for (const [field, owner] of Object.entries(ONLY_FOR)) {
    if (config[field as keyof typeof ONLY_FOR] !== undefined && owner !== name) {
      fail(`${field} applies to the ${owner} model only, not to ${name}; remove it or choose --model ${owner}`);
    }
  }
  const inputShape = positiveInts('inputShape', config.inputShape ?? [28, 28, 1], false);
  const numClasses = config.numClasses ?? 10;
  if (!Number.isSafeInteger(numClasses) || numClasses < 2) fail(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  const bnEpsilon = config.bnEpsilon ?? DEFAULT_BN_EPSILON;
  if (!(bnEpsilon > 0 && Number.isFinite(bnEpsilon))) fail(`bnEpsilon must be a positive number, got ${bnEpsilon}`);
  const base = { name, inputShape, numClasses, bnEpsilon };

  if (name === 'mlp') {
    return { ...base, hidden: positiveInts('hidden', config.hidden ?? [256, 128], true) };
  }
  if (name === 'cnn') {
    const channels = positiveInts('channels', config.channels ?? [16, 32], false);
    if (inputShape.length !== 3) fail(`the cnn needs an image inputShape [height, width, channels], got [${inputShape.join(', ')}]`);
    const shrink = 2 ** channels.length;
    if (inputShape[0] < shrink || inputShape[1] < shrink) {
      fail(
        `inputShape [${inputShape.join(', ')}] is too small for ${channels.length} conv blocks, each halving height and width; use at least ${shrink}×${shrink} or fewer blocks`,
      );
    }
    return { ...base, channels };
  }
  const norm = config.norm ?? 'batchnorm';
  if (!NORM_KINDS.includes(norm)) fail(`norm "${norm}" is unknown; use one of ${NORM_KINDS.join(', ')}`);
  if (inputShape.length !== 3 && inputShape.length !== 1) {
    fail(`the resnet needs inputShape [height, width, channels] (convolutional blocks) or [features] (dense blocks), got [${inputShape.join(', ')}]`);
  }
  if (inputShape.length === 3 && (inputShape[0] < 2 || inputShape[1] < 2)) {
    fail(`inputShape [${inputShape.join(', ')}] is too small: the resnet stem halves height and width; use at least 2×2`);
  }
  return {
    ...base,
    blocks: positiveInt('blocks', config.blocks ?? 3),
    width: positiveInt('width', config.width ?? 16),
    norm,
  };
}
