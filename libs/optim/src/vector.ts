/** Σ a[i]·b[i] in double precision, always in index order (so the same inputs give the same bits). */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

/** y ← y + a·x, in place. */
export function axpy(y: Float32Array, a: number, x: Float32Array): void {
  const n = y.length;
  for (let i = 0; i < n; i++) y[i] += a * x[i];
}
