/**
 * A model's forward pass in evaluation mode as data: the layers in order, each naming the tensors
 * it uses (their names in the parameter vector and in `params.safetensors`). Each architecture
 * declares it beside its forward pass, so another framework (Keras, numpy) can rebuild the network
 * from a run's files; graph.test.ts runs the graph of every architecture against its forward pass.
 */
import { runningStatsNames } from './bn-stats.js';
import type { BnLayer } from './layout.js';

/** The function applied to a layer's output; `linear` is none. */
export type Activation = 'linear' | 'relu';

interface Node {
  /** Unique within the graph; `/` separates a block from its layer, as in tensor names. */
  readonly name: string;
  /** The nodes whose outputs this one takes (`input` is the model's input). @default the previous node, or `input` for the first */
  readonly inputs?: readonly string[];
}

export type GraphNode =
  | (Node & { readonly op: 'flatten' })
  | (Node & { readonly op: 'dense'; readonly kernel: string; readonly bias?: string; readonly activation: Activation })
  | (Node & { readonly op: 'conv2d'; readonly kernel: string; readonly bias?: string; readonly activation: Activation })
  | (Node & {
      readonly op: 'batchnorm';
      readonly gamma: string;
      readonly beta: string;
      readonly mean: string;
      readonly variance: string;
      readonly epsilon: number;
      readonly activation: Activation;
    })
  | (Node & { readonly op: 'maxpool' })
  | (Node & { readonly op: 'add'; readonly inputs: readonly [string, string]; readonly activation: Activation })
  | (Node & { readonly op: 'global_average_pool' })
  | (Node & { readonly op: 'add_scalar'; readonly tensor: string; readonly activation: Activation })
  | (Node & { readonly op: 'mul_scalar'; readonly tensor: string });

export type GraphOp = GraphNode['op'];

/** What each op computes, in words another framework's user can follow (part of the run's metadata). */
export const OP_SEMANTICS: Readonly<Record<GraphOp, string>> = {
  flatten: '[N, H, W, C] -> [N, H*W*C], row-major over (H, W, C): Keras Flatten with channels_last, numpy reshape(N, -1)',
  dense: 'y = x @ kernel (+ bias), kernel [in, out]; then the activation',
  conv2d: "2-D cross-correlation (TensorFlow conv2d), NHWC, kernel [kh, kw, in, out], stride 1, 'same' zero padding; (+ bias); then the activation",
  batchnorm:
    'y = (x - mean) / sqrt(variance + epsilon) * gamma + beta per channel (last axis), mean and variance the running statistics (variance, not standard deviation); then the activation',
  maxpool: "max over 2x2 windows, stride 2, 'valid' (an odd last row or column is dropped)",
  add: 'elementwise sum of the two inputs (the residual connection); then the activation',
  global_average_pool: '[N, H, W, C] -> [N, C], mean over H and W',
  add_scalar: 'x + t for the one-element tensor t (Fixup bias); then the activation',
  mul_scalar: 'x * t for the one-element tensor t (Fixup scale)',
};

/** Builds a graph in order; a node takes the previous node's output unless it names its inputs. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];

  /** Appends `node`; returns its name, for a later node's `inputs`. */
  add(node: GraphNode): string {
    if (node.name === 'input' || this.nodes.some((n) => n.name === node.name)) {
      throw new Error(`graph node name "${node.name}" is reserved or repeated; each node needs a unique name`);
    }
    this.nodes.push(node);
    return node.name;
  }

  /** The name of the last node added (`input` before any). */
  get last(): string {
    return this.nodes.at(-1)?.name ?? 'input';
  }

  build(): readonly GraphNode[] {
    return this.nodes;
  }
}

/** The node of a batch-norm layer: γ and β by their names in the layout, the running statistics by theirs. */
export function batchNormNode(layer: BnLayer, nameOf: (index: number) => string, epsilon: number, activation: Activation): GraphNode {
  return {
    op: 'batchnorm',
    name: layer.spec.name,
    gamma: nameOf(layer.gamma),
    beta: nameOf(layer.beta),
    ...runningStatsNames(layer.spec.name),
    epsilon,
    activation,
  };
}
