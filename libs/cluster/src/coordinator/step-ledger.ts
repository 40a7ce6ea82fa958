/** What one finished step contributes to metrics.jsonl. */
export interface StepOutcome {
  /** Mean of the step's micro-batch losses, summed in id order as the reference trainer does. */
  readonly loss: number;
  /** Learning rate of the step's (last) update. */
  readonly lr: number;
  /**
   * Sync: the global ℓ2 norm of the mean gradient, √(Σ_s n_s²) over the shards' slice norms.
   * Async: the mean of the norms of the step's M micro-batch updates.
   */
  readonly gradNorm: number;
}

interface OpenStep {
  readonly pending: number[];
  readonly losses: (number | undefined)[];
  done: number;
  /** Micro-batch applications reported by the shards, keyed shard × M + id: a report repeated (a shard re-sending after a restart) counts once. */
  readonly applied: Set<number>;
  lr: number;
  /** Gradient norms reported, keyed like `applied` (sync: one per shard, under its first id). */
  readonly norms: Map<number, number>;
}

/**
 * The coordinator's ledger of open steps: which micro-batches still wait for a lease, which are
 * done (the worker's pushes were acknowledged) and which the shards report applied. A step is
 * complete when every one of its M micro-batches is both done and applied by all S shards, so each
 * micro-batch counts exactly once however often it was leased. Synchronous mode keeps one step
 * open at a time (two while the shards apply one and the next is leased); asynchronous mode opens
 * the steps of an epoch as workers ask for work.
 */
export class StepLedger {
  private readonly open = new Map<number, OpenStep>();

  constructor(
    private readonly microBatchesPerStep: number,
    private readonly shards: number,
    private readonly perMicroBatchUpdates: boolean,
  ) {}

  /** Opens `step` with every micro-batch pending (no-op when it is open already). */
  openStep(step: number): void {
    if (this.open.has(step)) return;
    const M = this.microBatchesPerStep;
    this.open.set(step, {
      pending: Array.from({ length: M }, (_, i) => i),
      losses: new Array<number | undefined>(M).fill(undefined),
      done: 0,
      applied: new Set(),
      lr: Number.NaN,
      norms: new Map(),
    });
  }

  /**
   * A shard restarted and lost the pushes it held but had not applied: every micro-batch of
   * `step` that some shard has not applied is pending again, done or not. Ids every shard applied
   * stay done; the shards' reports (lr, norms) are kept.
   * @returns the ids made pending again
   */
  reopen(step: number): number[] {
    const entry = this.open.get(step);
    if (!entry) return [];
    const back: number[] = [];
    for (let id = 0; id < this.microBatchesPerStep; id++) {
      if (this.appliedEverywhere(entry, id)) continue;
      if (entry.losses[id] !== undefined) {
        entry.losses[id] = undefined;
        entry.done--;
      }
      if (!entry.pending.includes(id)) back.push(id);
    }
    entry.pending.push(...back);
    return back;
  }

  /** The micro-batches of `step` some shard has not reported applied ([] once the step closed). */
  notAppliedEverywhere(step: number): number[] {
    const entry = this.open.get(step);
    if (!entry) return [];
    return Array.from({ length: this.microBatchesPerStep }, (_, id) => id).filter((id) => !this.appliedEverywhere(entry, id));
  }

  /** Whether shard `shard` reported every micro-batch of `step` applied (true once the step closed). */
  appliedBy(step: number, shard: number): boolean {
    const entry = this.open.get(step);
    if (!entry) return true;
    for (let id = 0; id < this.microBatchesPerStep; id++) if (!entry.applied.has(shard * this.microBatchesPerStep + id)) return false;
    return true;
  }

  private appliedEverywhere(entry: OpenStep, id: number): boolean {
    for (let s = 0; s < this.shards; s++) if (!entry.applied.has(s * this.microBatchesPerStep + id)) return false;
    return true;
  }

  isOpen(step: number): boolean {
    return this.open.has(step);
  }

  /** Open steps, lowest first. */
  openSteps(): number[] {
    return [...this.open.keys()].sort((a, b) => a - b);
  }

  /** Pending micro-batch ids of `step`, ascending. */
  pending(step: number): readonly number[] {
    return this.open.get(step)?.pending ?? [];
  }

  /** Takes up to `max` pending ids of `step` (lowest first) for a lease. */
  take(step: number, max: number): number[] {
    const entry = this.open.get(step);
    if (!entry) return [];
    entry.pending.sort((a, b) => a - b);
    return entry.pending.splice(0, max);
  }

  /** Puts leased ids that were not done back into `step`'s pending list (re-lease). */
  requeue(step: number, ids: readonly number[]): number[] {
    const entry = this.open.get(step);
    if (!entry) return [];
    const back = ids.filter((id) => entry.losses[id] === undefined && !entry.pending.includes(id));
    entry.pending.push(...back);
    return back;
  }

  /** Records finished micro-batches; later reports of the same id are ignored. */
  done(step: number, ids: readonly number[], losses: readonly number[]): void {
    const entry = this.open.get(step);
    if (!entry) return;
    ids.forEach((id, k) => {
      if (id >= this.microBatchesPerStep || entry.losses[id] !== undefined) return;
      entry.losses[id] = losses[k];
      entry.done++;
      const at = entry.pending.indexOf(id);
      if (at >= 0) entry.pending.splice(at, 1);
    });
  }

  /**
   * Records shard `shard`'s update covering `ids` of `step`. The losses the shard received with
   * the pushes also mark those ids done: a micro-batch the shards applied is finished even if the
   * worker that pushed it died before its leaseDone, and a re-lease of it is then moot.
   */
  applied(step: number, shard: number, ids: readonly number[], lr: number | undefined, gradNorm: number | undefined, losses?: readonly number[]): void {
    const entry = this.open.get(step);
    if (!entry || ids.length === 0) return;
    if (losses) this.done(step, ids, losses);
    const M = this.microBatchesPerStep;
    for (const id of ids) if (id < M) entry.applied.add(shard * M + id);
    if (lr !== undefined) entry.lr = lr;
    if (gradNorm !== undefined) entry.norms.set(shard * M + ids[0], gradNorm);
  }

  /** Micro-batch `id` of `step` is done (or its step is no longer open). */
  isIdDone(step: number, id: number): boolean {
    const entry = this.open.get(step);
    return entry === undefined || entry.losses[id] !== undefined;
  }

  /** Every micro-batch of `step` is done (the shards may still be applying it). */
  isDone(step: number): boolean {
    const entry = this.open.get(step);
    return entry !== undefined && entry.done === this.microBatchesPerStep;
  }

  isComplete(step: number): boolean {
    const entry = this.open.get(step);
    return entry !== undefined && entry.done === this.microBatchesPerStep && entry.applied.size === this.shards * this.microBatchesPerStep;
  }

  /** Closes a complete step and returns its metrics. */
  close(step: number): StepOutcome {
    const entry = this.open.get(step)!;
    this.open.delete(step);
    let lossSum = 0;
    for (const l of entry.losses) lossSum += l!;
    // Keyed order (shard, then id), so the sums do not depend on the order reports arrived in.
    const norms = [...entry.norms.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
    let gradNorm: number;
    if (this.perMicroBatchUpdates) {
      gradNorm = norms.reduce((a, b) => a + b, 0) / Math.max(1, norms.length);
    } else {
      // √(n²) is n exactly in binary floating point, so one shard reports the reference's norm.
      gradNorm = Math.sqrt(norms.reduce((a, n) => a + n * n, 0));
    }
    return { loss: lossSum / this.microBatchesPerStep, lr: entry.lr, gradNorm };
  }
}
