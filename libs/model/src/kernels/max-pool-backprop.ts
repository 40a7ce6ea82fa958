import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * Gradient of 2-D max pooling (NHWC): each window passes its `dy` to the first maximum of `x`
 * in row-major window order (strictly greater wins, starting from −∞, so ties go to the earliest
 * position and a window with no value above −∞ passes nothing). Overlapping windows add up.
 * This is the cpu backend's and TensorFlow's rule. Writes every element of `dx`.
 */
export function maxPoolBackprop(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const filterHeight = info.effectiveFilterHeight;
  const filterWidth = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const best = new Float64Array(inChannels);
  const argBest = new Int32Array(inChannels);
  dx.fill(0);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - padTop;
      const hStart = Math.max(0, h0);
      const hEnd = Math.min(inHeight, h0 + filterHeight);
      for (let ow = 0; ow < outWidth; ow++, o += inChannels) {
        const w0 = ow * strideWidth - padLeft;
        const wStart = Math.max(0, w0);
        const wEnd = Math.min(inWidth, w0 + filterWidth);
        best.fill(-Infinity);
        argBest.fill(-1);
        for (let ih = hStart; ih < hEnd; ih++) {
          for (let iw = wStart; iw < wEnd; iw++) {
            const base = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                argBest[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < inChannels; c++) {
          const at = argBest[c];
          if (at >= 0) dx[at] += dy[o + c];
        }
      }
    }
  }
}

/**
 * The same rule for 2×2 windows with stride 2 that start at the top-left corner (padding 0), using
 * the forward output `y` (each window's maximum, one of its values) instead of searching: the
 * first of the window's four values equal to `y` takes `dy`. Equality is decided on the float32
 * bits with integer arithmetic, so there is no data-dependent branch (those cost more than the
 * memory traffic here: ~1.2 ms against ~3.3 ms with branches and ~5.5 ms for `maxPoolBackprop`,
 * 64×28×28×16). +0 and −0 count as equal, as `>` treats them. With NaN in x the routing is
 * unspecified. Rows and columns that no window covers (odd sizes) get 0.
 */
export function maxPoolBackprop2x2(x: Float32Array, y: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const xBits = new Int32Array(x.buffer, x.byteOffset, x.length);
  const yBits = new Int32Array(y.buffer, y.byteOffset, y.length);
  if (inHeight !== 2 * outHeight || inWidth !== 2 * outWidth) dx.fill(0);
  const row = inWidth * inChannels;
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const top = (n * inHeight + 2 * oh) * row;
      for (let ow = 0; ow < outWidth; ow++) {
        const window = top + 2 * ow * inChannels;
        for (let c = 0; c < inChannels; c++, o++) {
          const p0 = window + c;
          const p1 = p0 + inChannels;
          const p2 = p0 + row;
          const p3 = p2 + inChannels;
          const m = yBits[o];
          const e0 = sameValue(xBits[p0], m);
          const e1 = sameValue(xBits[p1], m) & (e0 ^ 1);
          const e2 = sameValue(xBits[p2], m) & ((e0 | e1) ^ 1);
          const e3 = (e0 | e1 | e2) ^ 1;
          const g = dy[o];
          // + 0 turns the −0 of a negative g times 0 into +0, as a skipped position has.
          dx[p0] = g * e0 + 0;
          dx[p1] = g * e1 + 0;
          dx[p2] = g * e2 + 0;
          dx[p3] = g * e3 + 0;
        }
      }
    }
  }
}

/** 1 when the float32 values with bits `a` and `b` are equal (±0 included, NaN aside), else 0; branch-free. */
function sameValue(a: number, b: number): number {
  const differ = a ^ b;
  const notBothZero = (a | b) & 0x7fffffff;
  // (v | −v) has its sign bit set exactly when v ≠ 0 (int32).
  return (((differ | -differ) & (notBothZero | -notBothZero)) >>> 31) ^ 1;
}
