/**
 * Poisoned pushes, as workers report them (`leaseDone.refused`): which worker had which
 * micro-batch refused, so the micro-batch is leased to another worker, and how many refusals each
 * worker has, so one that keeps producing them is quarantined.
 */
export class Refusals {
  private readonly byMicroBatch = new Map<string, Set<number>>();
  private readonly strikes = new Map<number, number>();

  /** Records the refusals of `ids` of `step` pushed by `workerId`; returns the worker's refusals so far. */
  record(workerId: number, step: number, ids: readonly number[]): number {
    for (const id of ids) {
      const key = `${step}:${id}`;
      const set = this.byMicroBatch.get(key) ?? new Set<number>();
      set.add(workerId);
      this.byMicroBatch.set(key, set);
    }
    const total = (this.strikes.get(workerId) ?? 0) + ids.length;
    this.strikes.set(workerId, total);
    return total;
  }

  /** Whether `workerId` had micro-batch `id` of `step` refused (then it should go elsewhere). */
  refused(workerId: number, step: number, id: number): boolean {
    return this.byMicroBatch.get(`${step}:${id}`)?.has(workerId) ?? false;
  }

  /** Forgets the micro-batches of steps before `step` (closed). */
  forgetBefore(step: number): void {
    for (const key of this.byMicroBatch.keys()) if (Number(key.slice(0, key.indexOf(':'))) < step) this.byMicroBatch.delete(key);
  }
}
