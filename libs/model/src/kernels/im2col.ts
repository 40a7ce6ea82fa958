import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * Transposed im2col from a channel-major input: writes
 * `cols[k][m] = xc[ci, n, oh·sh + kh − padTop, ow·sw + kw − padLeft]` (0 outside the input) with
 * rows `k = (kh·KW + kw)·Cin + ci` and columns `m = (n·OH + oh)·OW + ow`: shape
 * `[KH·KW·Cin, N·OH·OW]`, row-major, every element written. `xc` is the NHWC input transposed to
 * `[Cin, N, H, W]` (for Cin = 1 the NHWC input itself), so each row is filled by reading one
 * channel plane in order — one sequential read stream and one sequential write stream.
 * Dilation must be 1.
 */
export function im2colTransposed(xc: Float32Array, info: backend_util.Conv2DInfo, cols: Float32Array): void {
  const sameSize = info.outHeight === info.inHeight && info.outWidth === info.inWidth;
  if (info.strideHeight === 1 && info.strideWidth === 1 && sameSize) im2colShifted(xc, info, cols);
  else im2colGeneral(xc, info, cols);
}

/**
 * Stride 1 with output size = input size ('same' padding): row k = (kh, kw, ci) is channel plane
 * ci shifted by a constant (kh − padTop)·W + (kw − padLeft) across all images, so it is one block
 * copy followed by zeroing the positions whose source lies outside the image (the top/bottom rows
 * and left/right columns the shift wraps over).
 */
function im2colShifted(xc: Float32Array, info: backend_util.Conv2DInfo, cols: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const imageSize = inHeight * inWidth;
  const planeSize = batchSize * imageSize;
  let row = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    const dh = kh - padTop;
    // Output rows oh with a source row oh + dh outside [0, H) are zero.
    const ohStart = Math.min(inHeight, Math.max(0, -dh));
    const ohEnd = Math.max(ohStart, Math.min(inHeight, inHeight - dh));
    for (let kw = 0; kw < filterWidth; kw++) {
      const dw = kw - padLeft;
      const owStart = Math.min(inWidth, Math.max(0, -dw));
      const owEnd = Math.max(owStart, Math.min(inWidth, inWidth - dw));
      const shift = dh * inWidth + dw;
      for (let ci = 0; ci < inChannels; ci++, row += planeSize) {
        const plane = ci * planeSize;
        // Destination [lo, hi) reads source [lo + shift, hi + shift), clipped to the plane.
        const lo = Math.max(0, -shift);
        const hi = Math.min(planeSize, planeSize - shift);
        if (lo > 0) cols.fill(0, row, row + lo);
        if (hi < planeSize) cols.fill(0, row + hi, row + planeSize);
        if (hi > lo) cols.set(xc.subarray(plane + lo + shift, plane + hi + shift), row + lo);
        for (let n = 0; n < batchSize; n++) {
          const image = row + n * imageSize;
          if (ohStart > 0) cols.fill(0, image, image + ohStart * inWidth);
          if (ohEnd < inHeight) cols.fill(0, image + ohEnd * inWidth, image + imageSize);
          if (owStart === 0 && owEnd === inWidth) continue;
          for (let oh = ohStart; oh < ohEnd; oh++) {
            const line = image + oh * inWidth;
            for (let ow = 0; ow < owStart; ow++) cols[line + ow] = 0;
            for (let ow = owEnd; ow < inWidth; ow++) cols[line + ow] = 0;
          }
        }
      }
    }
  }
}

function im2colGeneral(xc: Float32Array, info: backend_util.Conv2DInfo, cols: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const planeSize = batchSize * inHeight * inWidth;
  let o = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Output columns whose input column iw = ow·sw + kw − padLeft lies inside [0, inWidth).
      const owStart = Math.min(outWidth, Math.max(0, Math.ceil((padLeft - kw) / strideWidth)));
      const owEnd = Math.max(owStart, Math.min(outWidth, Math.floor((inWidth - 1 - kw + padLeft) / strideWidth) + 1));
      const firstColumn = owStart * strideWidth + kw - padLeft;
      for (let ci = 0; ci < inChannels; ci++) {
        const plane = ci * planeSize;
        for (let n = 0; n < batchSize; n++) {
          const image = plane + n * inHeight * inWidth;
          for (let oh = 0; oh < outHeight; oh++, o += outWidth) {
            const ih = oh * strideHeight + kh - padTop;
            if (ih < 0 || ih >= inHeight) {
              cols.fill(0, o, o + outWidth);
              continue;
            }
            for (let ow = 0; ow < owStart; ow++) cols[o + ow] = 0;
            let src = image + ih * inWidth + firstColumn;
            if (strideWidth === 1) {
              for (let ow = owStart; ow < owEnd; ow++) cols[o + ow] = xc[src++];
            } else {
              for (let ow = owStart; ow < owEnd; ow++, src += strideWidth) cols[o + ow] = xc[src];
            }
            for (let ow = owEnd; ow < outWidth; ow++) cols[o + ow] = 0;
          }
        }
      }
    }
  }
}
