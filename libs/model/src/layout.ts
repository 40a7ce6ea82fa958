/**
 * How an architecture declares its parameters and batch-norm layers. Declaration order is the
 * flat vector's order; each declaration returns the index the forward pass uses to find the
 * tensor, so the forward pass never looks names up.
 */
import type { BnSpec } from './bn-stats.js';
import type { ParamSpec } from './flat-params.js';
import { constant } from './init.js';
import type { Init } from './init.js';

export interface ParamDecl extends ParamSpec {
  readonly init: Init;
}

/** A batch-norm layer: its place in the running statistics and the indices of γ and β. */
export interface BnLayer {
  readonly spec: BnSpec;
  /** Position among the model's batch-norm layers. */
  readonly index: number;
  readonly gamma: number;
  readonly beta: number;
}

export interface Layout {
  readonly params: readonly ParamDecl[];
  readonly bn: readonly BnLayer[];
  readonly paramCount: number;
  readonly bnStateSize: number;
}

export class LayoutBuilder {
  private readonly params: ParamDecl[] = [];
  private readonly bn: BnLayer[] = [];
  private offset = 0;
  private bnOffset = 0;

  /** Declares a tensor; returns its index in the parameter list. */
  param(name: string, shape: readonly number[], init: Init): number {
    if (this.params.some((p) => p.name === name)) {
      throw new Error(`parameter name "${name}" is declared twice; each tensor needs a unique name`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    this.params.push({ name, shape: [...shape], offset: this.offset, size, init });
    this.offset += size;
    return this.params.length - 1;
  }

  /** Declares a batch-norm layer over `channels`: γ starts at 1 and β at 0 (Ioffe & Szegedy). */
  batchNorm(name: string, channels: number): BnLayer {
    const gamma = this.param(`${name}/gamma`, [channels], constant(1));
    const beta = this.param(`${name}/beta`, [channels], constant(0));
    const layer: BnLayer = { spec: { name, channels, offset: this.bnOffset }, index: this.bn.length, gamma, beta };
    this.bn.push(layer);
    this.bnOffset += 2 * channels;
    return layer;
  }

  /** The name of the tensor declared with this index. */
  nameOf(index: number): string {
    return this.params[index].name;
  }

  build(): Layout {
    return { params: this.params, bn: this.bn, paramCount: this.offset, bnStateSize: this.bnOffset };
  }
}
