import { checkSize, checkVector } from './check-arrays.js';
import { checkHyperParameter, resolveConfig } from './hyper-parameters.js';
import { checkState, snapshot } from './optimizer-state.js';
import type { StateLayout } from './optimizer-state.js';
import type { Optimizer, OptimizerConfig, OptimizerName, OptimizerState, ResolvedConfig } from './types.js';

/**
 * An optimizer whose update of weight i reads only element i of the gradient and of its slots, so
 * that a parameter-server shard can run it on its own slice. Each optimizer file defines one rule
 * (its pure in-place step plus these few facts); `ElementwiseOptimizer` is the one stateful
 * wrapper that validates, counts steps and snapshots for all of them.
 */
export interface ElementwiseRule<H extends { readonly lr: number }> {
  readonly name: OptimizerName;
  /** Every hyper-parameter the rule uses, with its default; other config fields are refused. */
  readonly defaults: H;
  /** Names of the per-parameter buffers, in their stable checkpoint order. */
  slots(config: H): readonly string[];
  /**
   * One in-place update of `params`.
   * @param slots buffers named by `slots(config)`, same order, zero before the first step.
   * @param t number of this step, 1 for the first (Adam's bias correction needs it).
   */
  update(
    params: Float32Array,
    grads: Float32Array,
    slots: readonly Float32Array[],
    t: number,
    lr: number,
    config: H,
  ): void;
  /** Writes the point where the next gradient must be taken; absent when that point is `params`. */
  lookahead?(params: Float32Array, slots: readonly Float32Array[], config: H, out: Float32Array): void;
}

/** The stateful wrapper of an `ElementwiseRule`: buffers, step count, validation, snapshots. */
export class ElementwiseOptimizer<H extends { readonly lr: number }> implements Optimizer {
  readonly name: OptimizerName;
  readonly size: number;
  readonly config: ResolvedConfig & H;
  private readonly rule: ElementwiseRule<H>;
  private readonly slotNames: readonly string[];
  private readonly buffers: Float32Array[];
  private readonly layout: StateLayout;
  private taken = 0;

  constructor(rule: ElementwiseRule<H>, config: OptimizerConfig, size: number) {
    this.rule = rule;
    this.name = rule.name;
    this.size = checkSize(rule.name, size);
    this.config = resolveConfig(config, rule.defaults);
    this.slotNames = rule.slots(this.config);
    this.buffers = this.slotNames.map(() => new Float32Array(size));
    this.layout = { name: rule.name, size, slots: this.slotNames.map((slot) => [slot, size]), scalars: [] };
  }

  get steps(): number {
    return this.taken;
  }

  step(params: Float32Array, grads: Float32Array, lr?: number): void {
    checkVector(`${this.name}.step`, 'params', params, this.size);
    checkVector(`${this.name}.step`, 'grads', grads, this.size);
    const rate = lr === undefined ? this.config.lr : checkHyperParameter(`${this.name}.step`, 'lr', lr);
    this.rule.update(params, grads, this.buffers, this.taken + 1, rate, this.config);
    this.taken += 1;
  }

  lookahead(params: Float32Array, out: Float32Array): boolean {
    const lookahead = this.rule.lookahead;
    if (lookahead === undefined) return false;
    checkVector(`${this.name}.lookahead`, 'params', params, this.size);
    checkVector(`${this.name}.lookahead`, 'out', out, this.size);
    lookahead(params, this.buffers, this.config, out);
    return true;
  }

  state(): OptimizerState {
    return snapshot(
      this.name,
      this.size,
      this.taken,
      this.slotNames.map((slot, i) => [slot, this.buffers[i]] as const),
    );
  }

  load(state: OptimizerState): void {
    this.taken = checkState(this.layout, state);
    this.slotNames.forEach((slot, i) => this.buffers[i].set(state.slots[slot]));
  }
}
