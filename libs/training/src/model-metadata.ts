import { datasetFormat, INPUT_SCALING, type DatasetName } from '@dptrain/data';
import { OP_SEMANTICS, type GraphNode, type GraphOp, type Model, type ResolvedModelConfig } from '@dptrain/model';

/** The `params.safetensors` metadata key holding the model's description (safetensors metadata values are strings: JSON). */
export const MODEL_METADATA_KEY = 'dptrain.model';

/**
 * What another framework needs to run the parameters of `params.safetensors`: the input and how
 * pixels become it, the layers in order with their tensors and activations, the layouts, batch
 * norm's epsilon and running statistics, the classes.
 */
export interface ModelDescription {
  readonly format: 'dptrain.model/1';
  readonly model: ResolvedModelConfig['name'];
  /** The architecture's settings, every default filled in. */
  readonly config: ResolvedModelConfig;
  readonly dataset: DatasetName;
  readonly input: {
    /** One sample, without the batch axis. */
    readonly shape: readonly number[];
    readonly layout: 'NHWC' | 'NC';
    readonly dtype: 'float32';
    readonly scaling: string;
    readonly pixels: string;
  };
  readonly output: {
    readonly kind: 'logits';
    readonly classes: number;
    /** Index = class; null where the classes have no names (the generated set). */
    readonly classNames: readonly string[] | null;
    readonly prediction: string;
  };
  readonly tensors: string;
  readonly kernelLayout: { readonly dense: string; readonly conv2d: string };
  readonly batchNorm: { readonly epsilon: number; readonly runningStatistics: string } | null;
  /** The evaluation-mode forward pass, layer by layer; a node takes the previous node's output unless it names `inputs`. */
  readonly layers: readonly GraphNode[];
  /** What each op of `layers` computes. */
  readonly ops: Partial<Record<GraphOp, string>>;
}

/** The description of `model` trained on `dataset`. */
export function describeModel(model: Model, dataset: DatasetName): ModelDescription {
  const { config, graph } = model;
  const ops = [...new Set(graph.map((n) => n.op))];
  return {
    format: 'dptrain.model/1',
    model: config.name,
    config,
    dataset,
    input: {
      shape: config.inputShape,
      layout: config.inputShape.length === 3 ? 'NHWC' : 'NC',
      dtype: 'float32',
      scaling: INPUT_SCALING,
      pixels: 'as in the IDX files: row-major, one channel, 0 = black background',
    },
    output: {
      kind: 'logits',
      classes: config.numClasses,
      classNames: datasetFormat(dataset).classNames ?? null,
      prediction: 'class = argmax(logits), the first on ties; probabilities = softmax(logits)',
    },
    tensors: 'float32, little-endian, row-major; named as in layers',
    kernelLayout: { dense: '[in, out]: y = x @ kernel', conv2d: '[kh, kw, in, out] (HWIO, TensorFlow/Keras)' },
    batchNorm:
      model.bnSpecs.length === 0
        ? null
        : {
            epsilon: config.bnEpsilon,
            runningStatistics: '(mean, variance) per channel: <layer>/running_mean, <layer>/running_var; the variance, not the standard deviation',
          },
    layers: graph,
    ops: Object.fromEntries(ops.map((op) => [op, OP_SEMANTICS[op]])),
  };
}

/** The metadata entry describing `model` (merge it into the rest of params.safetensors' metadata). */
export function modelMetadata(model: Model, dataset: DatasetName): Record<string, string> {
  return { [MODEL_METADATA_KEY]: JSON.stringify(describeModel(model, dataset)) };
}
