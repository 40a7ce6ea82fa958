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
