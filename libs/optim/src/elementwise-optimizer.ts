import { checkSize, checkVector } from './check-arrays.js';
import { checkHyperParameter, resolveConfig } from './hyper-parameters.js';
import { checkState, snapshot } from './optimizer-state.js';
import type { StateLayout } from './optimizer-state.js';
import type { Optimizer, OptimizerBuffers, OptimizerConfig, OptimizerName, OptimizerState, ResolvedConfig } from './types.js';
import { instantiateKernels, requireSimd } from './wasm/kernel-module.js';
import type { KernelFunction } from './wasm/kernel-module.js';
import type { Kernel } from './wasm/kernel.js';
import { allocateRegions } from './wasm/optimizer-memory.js';

/**
 * An optimizer whose update of weight i reads only element i of the gradient and of its slots, so
 * that a parameter-server shard can run it on its own slice. Each optimizer file defines one rule
 * (its float32 kernel, its plain JavaScript reference and these few facts); `ElementwiseOptimizer`
 * is the one stateful wrapper that validates, counts steps, owns the memory and snapshots for all.
 */
export interface ElementwiseRule<H extends { readonly lr: number }> {
  readonly name: OptimizerName;
  /** Every hyper-parameter the rule uses, with its default; other config fields are refused. */
  readonly defaults: H;
  /** Names of the per-parameter buffers, in their stable checkpoint order. */
  slots(config: H): readonly string[];
  /**
   * The update `step()` runs: a float32 kernel (`wasm/kernel.ts`) over the arrays `params`,
   * `grads` and the slots, whose scalars it computes from (t, lr, config), t = 1 for the first step.
   */
  kernel(config: H): Kernel<H>;
  /** The look-ahead as a kernel writing array `point` from `params` and slots; absent when that point is `params`. */
  readonly lookaheadKernel?: Kernel<H>;
  /**
   * The same update in plain JavaScript with double-precision intermediates: the documented
   * reference the tests hold the kernel to (within float32 rounding). Never run by `step()`.
   * @param slots buffers named by `slots(config)`, same order, zero before the first step.
   */
  reference(params: Float32Array, grads: Float32Array, slots: readonly Float32Array[], t: number, lr: number, config: H): void;
  /** The look-ahead in plain JavaScript, the reference of `lookaheadKernel`. */
  referenceLookahead?(params: Float32Array, slots: readonly Float32Array[], config: H, out: Float32Array): void;
}

/** A kernel bound to its function and the byte offsets of its arrays in this optimizer's memory. */
interface BoundKernel<H> {
  readonly kernel: Kernel<H>;
  readonly run: KernelFunction;
  readonly pointers: readonly number[];
}

/**
 * The stateful wrapper of an `ElementwiseRule`. Its memory is one WebAssembly memory holding, one
 * after the other, `params`, `grads`, `point` (only with a look-ahead) and the slots, each of
 * `size` float32, sized once here and never grown. `step` runs the rule's kernel on those regions;
 * arrays passed in that are not the regions themselves are copied in and out around it.
 */
export class ElementwiseOptimizer<H extends { readonly lr: number }> implements Optimizer {
  readonly name: OptimizerName;
  readonly size: number;
  readonly config: ResolvedConfig & H;
  readonly buffers: OptimizerBuffers;
  private readonly slotNames: readonly string[];
  private readonly slotViews: readonly Float32Array[];
  private readonly layout: StateLayout;
  private readonly update: BoundKernel<H>;
  private readonly look: BoundKernel<H> | undefined;
  private taken = 0;

  /**
   * @throws {OptimError} E_OPTIM_SIZE, E_OPTIM_FIELD, E_OPTIM_HYPERPARAMETER (see `createOptimizer`),
   *   E_OPTIM_SIMD without WebAssembly SIMD.
   */
  constructor(rule: ElementwiseRule<H>, config: OptimizerConfig, size: number) {
    this.name = rule.name;
    this.size = checkSize(rule.name, size);
    this.config = resolveConfig(config, rule.defaults);
    this.slotNames = rule.slots(this.config);
    this.layout = { name: rule.name, size, slots: this.slotNames.map((slot) => [slot, size]), scalars: [] };

    const api = requireSimd(rule.name);
    const lookahead = rule.lookaheadKernel;
    const regions = allocateRegions(rule.name, ['params', 'grads', ...(lookahead ? ['point'] : []), ...this.slotNames], size, api);
    const kernels = [rule.kernel(this.config), ...(lookahead ? [lookahead] : [])];
    const functions = instantiateKernels(rule.name, kernels, regions.memory, api);
    const bind = (kernel: Kernel<H>): BoundKernel<H> => ({
      kernel,
      run: functions[kernel.name],
      pointers: kernel.arrays.map((array) => {
        const offset = regions.offsets[array];
        if (offset === undefined) {
          throw new Error(`${rule.name}: kernel ${kernel.name} takes an array ${array}, which is neither params, grads, point nor a slot of ${rule.name}`);
        }
        return offset;
      }),
    });
    this.update = bind(kernels[0]);
    this.look = lookahead ? bind(lookahead) : undefined;
    const { params, grads } = regions.views;
    this.buffers = Object.freeze({ params, grads, point: regions.views['point'] ?? params });
    this.slotViews = this.slotNames.map((slot) => regions.views[slot]);
  }

  get steps(): number {
    return this.taken;
  }

  step(params: Float32Array, grads: Float32Array, lr?: number): void {
    checkVector(`${this.name}.step`, 'params', params, this.size);
    checkVector(`${this.name}.step`, 'grads', grads, this.size);
    const rate = lr === undefined ? this.config.lr : checkHyperParameter(`${this.name}.step`, 'lr', lr);
    const own = this.buffers;
    const copyParams = !isView(params, own.params);
    if (copyParams) own.params.set(params);
    if (!isView(grads, own.grads)) own.grads.set(grads);
    this.call(this.update, this.taken + 1, rate);
    if (copyParams) params.set(own.params);
    this.taken += 1;
  }

  lookahead(params: Float32Array, out: Float32Array): boolean {
    if (this.look === undefined) return false;
    checkVector(`${this.name}.lookahead`, 'params', params, this.size);
    checkVector(`${this.name}.lookahead`, 'out', out, this.size);
    const own = this.buffers;
    if (!isView(params, own.params)) own.params.set(params);
    this.call(this.look, this.taken + 1, this.config.lr);
    if (!isView(out, own.point)) out.set(own.point);
    return true;
  }

  state(): OptimizerState {
    return snapshot(
      this.name,
      this.size,
      this.taken,
      this.slotNames.map((slot, i) => [slot, this.slotViews[i]] as const),
    );
  }

  load(state: OptimizerState): void {
    this.taken = checkState(this.layout, state);
    this.slotNames.forEach((slot, i) => this.slotViews[i].set(state.slots[slot]));
  }

  private call(bound: BoundKernel<H>, t: number, lr: number): void {
    bound.run(...bound.pointers, this.size, ...bound.kernel.values(t, lr, this.config));
  }
}

/** Whether `array` is `view` itself or another view of exactly the same memory. */
function isView(array: Float32Array, view: Float32Array): boolean {
  return array === view || (array.buffer === view.buffer && array.byteOffset === view.byteOffset);
}
