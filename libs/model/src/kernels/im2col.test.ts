import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { im2colTransposed } from './im2col.js';
import { seededValues } from './testing/oracle.js';

/** cols[k][m] straight from the definition, for an NHWC x. */
function reference(x: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const m = n * oh * ow;
  const cols = new Float32Array(fh * fw * c * m);
  for (let kh = 0; kh < fh; kh++)
    for (let kw = 0; kw < fw; kw++)
      for (let ci = 0; ci < c; ci++)
        for (let b = 0; b < n; b++)
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              const ih = i * info.strideHeight + kh - info.padInfo.top;
              const iw = j * info.strideWidth + kw - info.padInfo.left;
              const inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
              cols[((kh * fw + kw) * c + ci) * m + (b * oh + i) * ow + j] = inside ? x[((b * h + ih) * w + iw) * c + ci]! : 0;
            }
  return cols;
}

/** NHWC → [C, N, H, W], the layout im2colTransposed reads. */
function channelMajor(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n!; b++)
    for (let i = 0; i < h!; i++)
      for (let j = 0; j < w!; j++) for (let ci = 0; ci < c!; ci++) out[((ci * n! + b) * h! + i) * w! + j] = x[((b * h! + i) * w! + j) * c! + ci]!;
  return out;
}

describe('im2colTransposed', () => {
  it('lays out a 2×2 image under a 3×3 same window by hand', () => {
    // x = [[1, 2], [3, 4]], one channel; 'same' pads one zero all round. Row k = (kh, kw) lists,
    // for output positions (0,0), (0,1), (1,0), (1,1), the pixel at (oh + kh − 1, ow + kw − 1):
    //   (0,0): [0, 0, 0, 1]   (0,1): [0, 0, 1, 2]   (0,2): [0, 0, 2, 0]
    //   (1,0): [0, 1, 0, 3]   (1,1): [1, 2, 3, 4]   (1,2): [2, 0, 4, 0]
    //   (2,0): [0, 3, 0, 0]   (2,1): [3, 4, 0, 0]   (2,2): [4, 0, 0, 0]
    const info = tf.backend_util.computeConv2DInfo([1, 2, 2, 1], [3, 3, 1, 1], 1, 1, 'same');
    const cols = new Float32Array(36).fill(NaN);
    im2colTransposed(new Float32Array([1, 2, 3, 4]), info, cols);
    expect(Array.from(cols)).toEqual([0, 0, 0, 1, 0, 0, 1, 2, 0, 0, 2, 0, 0, 1, 0, 3, 1, 2, 3, 4, 2, 0, 4, 0, 0, 3, 0, 0, 3, 4, 0, 0, 4, 0, 0, 0]);
  });

  // Stride 1 with 'same' output size takes the block-copy path, the rest the general one.
  const cases = [
    { shape: [2, 5, 6, 3], filter: 3, stride: 1, pad: 'same' as const },
    { shape: [2, 7, 7, 2], filter: 5, stride: 1, pad: 'same' as const },
    { shape: [1, 4, 4, 1], filter: 2, stride: 1, pad: 'same' as const },
    { shape: [2, 5, 6, 3], filter: 3, stride: 2, pad: 'same' as const },
    { shape: [2, 5, 6, 3], filter: 3, stride: 1, pad: 'valid' as const },
    { shape: [2, 9, 8, 2], filter: 3, stride: 2, pad: 'valid' as const },
    { shape: [1, 3, 3, 2], filter: 5, stride: 1, pad: 'same' as const },
  ];
  it.each(cases)('$shape, $filter×$filter, stride $stride, $pad: matches the definition', ({ shape, filter, stride, pad }) => {
    const info = tf.backend_util.computeConv2DInfo(shape as [number, number, number, number], [filter, filter, shape[3]!, 1], stride, 1, pad);
    const x = seededValues(
      shape.reduce((a, b) => a * b, 1),
      5,
    );
    const want = reference(x, info);
    const cols = new Float32Array(want.length).fill(NaN);
    im2colTransposed(channelMajor(x, shape), info, cols);
    expect(Array.from(cols)).toEqual(Array.from(want));
  });
});
