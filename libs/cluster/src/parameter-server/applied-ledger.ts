/**
 * Which (step, micro-batch id) pairs a shard has applied: one bit per pair of the job's plan
 * (steps × M bits, 586 bytes for 1,172 steps of 4 micro-batches), so it fits in every checkpoint
 * and proves exactly-once across restarts.
 */
export class AppliedLedger {
  private readonly bits: Uint8Array;
  private applied = 0;

  /**
   * @param steps the job's total steps
   * @param microBatches M, micro-batches per step
   * @param bits a previous ledger's `bytes()` of the same job, to continue it
   * @throws RangeError when `bits` does not have the length this plan needs
   */
  constructor(
    readonly steps: number,
    readonly microBatches: number,
    bits?: Uint8Array,
  ) {
    const length = Math.ceil((steps * microBatches) / 8);
    if (bits && bits.length !== length) {
      throw new RangeError(
        `applied ledger has ${bits.length} bytes but a plan of ${steps} steps × ${microBatches} micro-batches needs ${length}; it belongs to another job`,
      );
    }
    this.bits = bits ? bits.slice() : new Uint8Array(length);
    for (const byte of this.bits) this.applied += popcount(byte);
  }

  /** Pairs recorded so far. */
  get count(): number {
    return this.applied;
  }

  has(step: number, id: number): boolean {
    const bit = this.index(step, id);
    return (this.bits[bit >> 3] & (1 << (bit & 7))) !== 0;
  }

  /** Records the pairs; the caller checked with `has` that none is there yet. */
  add(step: number, ids: readonly number[]): void {
    for (const id of ids) {
      const bit = this.index(step, id);
      if ((this.bits[bit >> 3] & (1 << (bit & 7))) === 0) this.applied++;
      this.bits[bit >> 3] |= 1 << (bit & 7);
    }
  }

  /** A copy of the bit set, for a checkpoint. */
  bytes(): Uint8Array {
    return this.bits.slice();
  }

  private index(step: number, id: number): number {
    if (!(step >= 0 && step < this.steps && id >= 0 && id < this.microBatches)) {
      throw new RangeError(`(step ${step}, micro-batch ${id}) is outside the plan of ${this.steps} steps × ${this.microBatches} micro-batches`);
    }
    return step * this.microBatches + id;
  }
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}
