import { axpy, dot } from './vector.js';

/**
 * The m most recent curvature pairs of L-BFGS, s = w(k+1) − w(k) and y = ∇J(w(k+1)) − ∇J(w(k)),
 * in a ring, and the two-loop recursion that multiplies a vector by the inverse-Hessian estimate H
 * they define (Nocedal & Wright, Numerical Optimization, Algorithm 7.4).
 *
 * Everything derived (ρ_j = 1/(y_jᵀs_j), y_jᵀy_j) is recomputed from the stored float32 pairs, so a
 * history restored from a snapshot continues with the same bits.
 */
export class LbfgsHistory {
  /** s_j for ring slot j. */
  readonly s: readonly Float32Array[];
  /** y_j for ring slot j. */
  readonly y: readonly Float32Array[];
  private readonly rho: Float64Array;
  private readonly yy: Float64Array;
  private readonly alpha: Float64Array;
  private count = 0;
  private last: number;

  constructor(
    readonly size: number,
    readonly capacity: number,
  ) {
    this.s = Array.from({ length: capacity }, () => new Float32Array(size));
    this.y = Array.from({ length: capacity }, () => new Float32Array(size));
    this.rho = new Float64Array(capacity);
    this.yy = new Float64Array(capacity);
    this.alpha = new Float64Array(capacity);
    this.last = capacity - 1;
  }

  /** Pairs stored (0 … capacity). */
  get pairs(): number {
    return this.count;
  }

  /** Ring slot of the newest pair. */
  get newest(): number {
    return this.last;
  }

  /** Forgets every pair (H becomes the identity again). */
  reset(): void {
    this.count = 0;
    this.last = this.capacity - 1;
  }

  /** Adopts ring bookkeeping from a snapshot whose pairs were copied into `s` and `y`. */
  restore(pairs: number, newest: number): void {
    this.count = pairs;
    this.last = newest;
    for (let k = 0, j = newest; k < pairs; k++, j = (j + this.capacity - 1) % this.capacity) {
      this.rho[j] = 1 / dot(this.y[j], this.s[j]);
      this.yy[j] = dot(this.y[j], this.y[j]);
    }
  }

  /**
   * Offers the pair s = w − wPrev, y = g − gPrev and stores it (evicting the oldest when full) if it
   * satisfies the curvature condition sᵀy > 1e-8·‖s‖·‖y‖; otherwise H would not stay positive
   * definite (non-convex regions, noisy gradients, a step too small to measure).
   * @returns whether the pair was stored.
   */
  offer(w: Float32Array, wPrev: Float32Array, g: Float32Array, gPrev: Float32Array): boolean {
    let sy = 0;
    let ss = 0;
    let yy = 0;
    const n = this.size;
    // Rounded exactly as they will be stored, so ρ equals what restore() recomputes.
    for (let i = 0; i < n; i++) {
      const si = Math.fround(w[i] - wPrev[i]);
      const yi = Math.fround(g[i] - gPrev[i]);
      sy += yi * si;
      ss += si * si;
      yy += yi * yi;
    }
    if (!(sy > 1e-8 * Math.sqrt(ss * yy))) return false;
    const j = (this.last + 1) % this.capacity;
    const s = this.s[j];
    const y = this.y[j];
    for (let i = 0; i < n; i++) {
      s[i] = w[i] - wPrev[i];
      y[i] = g[i] - gPrev[i];
    }
    this.rho[j] = 1 / sy;
    this.yy[j] = yy;
    this.last = j;
    this.count = Math.min(this.count + 1, this.capacity);
    return true;
  }

  /**
   * Writes H·g into `out` by the two-loop recursion with H0 = (sᵀy / yᵀy)·I from the newest pair;
   * with no pairs, H = I.
   * @returns gᵀHg, positive when −Hg is a descent direction.
   */
  inverseHessianTimes(g: Float32Array, out: Float32Array): number {
    out.set(g);
    const m = this.capacity;
    let j = this.last;
    for (let k = 0; k < this.count; k++, j = (j + m - 1) % m) {
      const a = this.rho[j] * dot(this.s[j], out);
      this.alpha[j] = a;
      axpy(out, -a, this.y[j]);
    }
    if (this.count > 0) {
      const gamma = 1 / (this.rho[this.last] * this.yy[this.last]);
      const n = this.size;
      for (let i = 0; i < n; i++) out[i] *= gamma;
    }
    // j is now one before the oldest pair; walk forward from the oldest.
    for (let k = 0; k < this.count; k++) {
      j = (j + 1) % m;
      const b = this.rho[j] * dot(this.y[j], out);
      axpy(out, this.alpha[j] - b, this.s[j]);
    }
    return dot(g, out);
  }
}
