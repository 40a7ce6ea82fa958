/**
 * A curve kept to at most `max` points however long the run: past it, every other point is
 * dropped and from then on only every other new point is kept, so the points stay evenly spread
 * over the whole run (first to last) at any length, in O(max) memory.
 */
export class DecimatedSeries<T> {
  private kept: T[] = [];
  /** Keep one offered point in this many. */
  private stride = 1;
  private offered = 0;

  /** @param max even, so that thinning keeps the newest point and the spacing stays even */
  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 2 || max % 2 !== 0) throw new RangeError(`a decimated series keeps an even number of points, at least 2; got ${max}`);
  }

  /**
   * Offers the next point.
   * @returns 'dropped' (not kept), 'kept' (appended), or 'thinned' (kept, and the series was thinned: read it again)
   */
  add(point: T): 'dropped' | 'kept' | 'thinned' {
    if (this.offered++ % this.stride !== 0) return 'dropped';
    this.kept.push(point);
    if (this.kept.length <= this.max) return 'kept';
    this.kept = this.kept.filter((_, i) => i % 2 === 0);
    this.stride *= 2;
    this.offered = 1;
    return 'thinned';
  }

  get points(): readonly T[] {
    return this.kept;
  }
}
