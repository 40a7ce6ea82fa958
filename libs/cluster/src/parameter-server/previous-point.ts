/** What a pull of one version returns: the raw parameters, the gradient point and the running statistics. */
export interface PointView {
  readonly version: number;
  readonly params: Float32Array;
  /** The gradient point; the same array as `params` when the optimizer has no look-ahead. */
  readonly point: Float32Array;
  readonly bnState: Float32Array | undefined;
}

/**
 * A copy of what a synchronous shard served at version − 1. After another shard restarts and loses
 * the pushes it held for step t, the coordinator leases step t again, and a shard that already
 * applied it must still answer the pull of step t with step t's parameters.
 */
export class PreviousPoint {
  private readonly params: Float32Array;
  private readonly point: Float32Array | undefined;
  private readonly bnState: Float32Array | undefined;
  /** Whether the held gradient point was the parameters themselves. */
  private pointIsParams = true;
  private held = -1;

  /** @param lookahead whether the optimizer's gradient point can differ from the parameters (Nesterov) */
  constructor(length: number, lookahead: boolean, bnLength: number | undefined) {
    this.params = new Float32Array(length);
    this.point = lookahead ? new Float32Array(length) : undefined;
    this.bnState = bnLength === undefined ? undefined : new Float32Array(bnLength);
  }

  /** Copies `view`: before the update that turns it into version + 1, or from a checkpoint. */
  save(view: PointView): void {
    this.params.set(view.params);
    this.pointIsParams = view.point === view.params || !this.point;
    if (!this.pointIsParams) this.point!.set(view.point);
    if (this.bnState && view.bnState) this.bnState.set(view.bnState);
    this.held = view.version;
  }

  /** The copy of `version`, if that is the one held. */
  at(version: number): PointView | undefined {
    if (version !== this.held || this.held < 0) return undefined;
    return { version: this.held, params: this.params, point: this.pointIsParams ? this.params : this.point!, bnState: this.bnState };
  }

  /** Copies for a checkpoint (undefined when nothing is held yet). */
  snapshot(): PointView | undefined {
    const view = this.at(this.held);
    if (!view) return undefined;
    const params = view.params.slice();
    return { version: view.version, params, point: view.point === view.params ? params : view.point.slice(), bnState: view.bnState?.slice() };
  }
}
