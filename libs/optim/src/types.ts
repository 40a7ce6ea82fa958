/** The optimizers `createOptimizer` builds, in the lecture's order of complexity, then beyond it. */
export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'adagrad', 'adadelta', 'adam', 'adamw', 'rmsprop', 'lbfgs'] as const;

export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Every hyper-parameter some optimizer accepts; each optimizer accepts only its own subset. */
export const HYPER_PARAMETER_NAMES = ['lr', 'momentum', 'rho', 'beta1', 'beta2', 'eps', 'weightDecay', 'history'] as const;

export type HyperParameterName = (typeof HYPER_PARAMETER_NAMES)[number];

/**
 * What `createOptimizer` builds. Fields left `undefined` take the optimizer's default; a defined
 * field that the chosen optimizer does not use is refused (it would silently do nothing).
 *
 * | name       | lr    | other fields (defaults)                                |
 * |------------|-------|--------------------------------------------------------|
 * | `sgd`      | 0.01  |                                                        |
 * | `momentum` | 0.01  | momentum 0.9                                           |
 * | `nesterov` | 0.01  | momentum 0.9                                           |
 * | `adagrad`  | 0.01  | eps 1e-8                                               |
 * | `adadelta` | 1     | rho 0.9, eps 1e-6                                      |
 * | `adam`     | 0.001 | beta1 0.9, beta2 0.999, eps 1e-8                       |
 * | `adamw`    | 0.001 | beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.01     |
 * | `rmsprop`  | 0.001 | rho 0.9, eps 1e-8, momentum 0                          |
 * | `lbfgs`    | 1     | history 10                                             |
 */
export interface OptimizerConfig {
  readonly name: OptimizerName;
  /** Learning rate α (step length for lbfgs), ≥ 0; `step(params, grads, lr)` may override it per step. */
  readonly lr?: number;
  /** γ of the momentum term γ[w(k) − w(k−1)], in [0, 1). */
  readonly momentum?: number;
  /** Forgetting factor of the running averages of squares (adadelta, rmsprop), in [0, 1). */
  readonly rho?: number;
  /** Forgetting factor γ1 of Adam's first moment, in [0, 1). */
  readonly beta1?: number;
  /** Forgetting factor γ2 of Adam's second moment, in [0, 1). */
  readonly beta2?: number;
  /** ε that keeps the divisions finite, > 0. */
  readonly eps?: number;
  /** Decoupled weight decay λ of AdamW, ≥ 0. */
  readonly weightDecay?: number;
  /** Number m of (s, y) pairs L-BFGS keeps, an integer in [1, 1000]. */
  readonly history?: number;
}

/** A config with every field the optimizer uses filled in (so `lr` is always there). */
export type ResolvedConfig = OptimizerConfig & { readonly lr: number };

/**
 * A snapshot of an optimizer, enough to continue bit for bit after `load()`.
 *
 * Slot names and their order are part of the checkpoint format and do not change between versions
 * (`format` would be raised if they ever had to): see each optimizer's doc comment for its slots.
 * Arrays are copies, not views of the optimizer's buffers.
 */
export interface OptimizerState {
  /** Version of this layout. */
  readonly format: 1;
  readonly name: OptimizerName;
  /** Parameter count the optimizer was created for. */
  readonly size: number;
  /** Steps taken so far. */
  readonly step: number;
  /** Per-parameter buffers, in the optimizer's stable slot order. */
  readonly slots: Readonly<Record<string, Float32Array>>;
  /** Integer bookkeeping (L-BFGS's ring buffer); empty for the element-wise optimizers. */
  readonly scalars: Readonly<Record<string, number>>;
}

/**
 * Arrays of the parameter count that live where the optimizer computes (inside its WebAssembly
 * memory for the element-wise optimizers), all zero at creation. `step` and `lookahead` use them
 * without a copy; any other Float32Array works too, through a copy in and out (see `Optimizer`).
 *
 * They stay valid for the optimizer's whole life: its memory is sized once, at creation, and never
 * grows (growing a WebAssembly memory would detach every view of it).
 */
export interface OptimizerBuffers {
  /** The parameters w(k): fill once (`buffers.params.set(init)`), then `step` updates them in place. */
  readonly params: Float32Array;
  /** The gradient of the step (e.g. the mean of the micro-batch gradients) that `step` applies. */
  readonly grads: Float32Array;
  /**
   * Where `lookahead` writes the point at which the next gradient must be taken (Nesterov). For an
   * optimizer without a look-ahead the point is w(k) itself, and this is the same array as
   * `params`: read it, never write into it as scratch.
   */
  readonly point: Float32Array;
}

/**
 * An optimizer over one flat parameter vector (or one parameter-server shard of it).
 *
 * Protocol of one training step: `lookahead(params, scratch)` tells where the gradient must be
 * taken (the look-ahead point for Nesterov, `params` itself otherwise); take the gradient there;
 * then `step(params, grads)` updates `params` in place.
 *
 * Zero-copy use: keep the parameters and the gradient in `buffers` and pass those very arrays:
 * `opt.step(opt.buffers.params, opt.buffers.grads)`, `opt.lookahead(opt.buffers.params,
 * opt.buffers.point)`. An argument that is not the matching buffer is copied into it first (and
 * `params`/`out` copied back after), so the buffers are also the optimizer's staging area: do not
 * keep data of your own in a buffer while you pass other arrays in its role.
 */
export interface Optimizer {
  readonly name: OptimizerName;
  /** Parameter count every array passed in must have. */
  readonly size: number;
  /** The hyper-parameters in force: the config's values over the optimizer's defaults. */
  readonly config: ResolvedConfig;
  /** Steps taken so far (also `state().step`). */
  readonly steps: number;
  /** params, grads and point arrays that `step` and `lookahead` use without copying. */
  readonly buffers: OptimizerBuffers;
  /**
   * One update of `params` in place with gradient `grads`, which is only read: its bits are the
   * same afterwards (the parameter server logs and measures the gradient after the update).
   * @param lr the learning rate of this step (e.g. from a schedule); @default config.lr
   * @throws {OptimError} E_OPTIM_LENGTH when an array's length is not `size`;
   *   E_OPTIM_HYPERPARAMETER when `lr` is negative or not finite.
   */
  step(params: Float32Array, grads: Float32Array, lr?: number): void;
  /**
   * Writes into `out` the point where the next gradient must be taken and returns true, or returns
   * false (leaving `out` untouched) when that point is `params` itself.
   */
  lookahead(params: Float32Array, out: Float32Array): boolean;
  /** A copy of everything `step` depends on apart from the config. */
  state(): OptimizerState;
  /**
   * Restores a snapshot taken by `state()` of an optimizer with the same name, size and config.
   * @throws {OptimError} E_OPTIM_STATE naming the first entry that does not fit.
   */
  load(state: OptimizerState): void;
}
