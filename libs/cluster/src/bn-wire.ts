import type { BnSpec } from '@dptrain/model/stats';

/** Shape of batch-norm moments as they travel: per layer [count, mean[C], variance[C]]. */
export interface WireMoments {
  readonly count: number;
  readonly mean: Float32Array<ArrayBufferLike>;
  readonly variance: Float32Array<ArrayBufferLike>;
}

/** Floats one micro-batch's moments take on the wire: Σ over layers of 1 + 2C. */
export function bnStatsLength(specs: readonly BnSpec[]): number {
  return specs.reduce((n, s) => n + 1 + 2 * s.channels, 0);
}

/** Packs one micro-batch's per-layer moments (float32 means and variances travel unchanged). */
export function packMoments(
  specs: readonly BnSpec[],
  layers: readonly WireMoments[],
  out: Float32Array<ArrayBufferLike> = new Float32Array(bnStatsLength(specs)),
): Float32Array<ArrayBufferLike> {
  let at = 0;
  specs.forEach((spec, l) => {
    out[at++] = layers[l].count;
    out.set(layers[l].mean.subarray(0, spec.channels), at);
    at += spec.channels;
    out.set(layers[l].variance.subarray(0, spec.channels), at);
    at += spec.channels;
  });
  return out;
}

/** Views of a packed vector as per-layer moments (no copy). */
export function unpackMoments(specs: readonly BnSpec[], packed: Float32Array): WireMoments[] {
  let at = 0;
  return specs.map((spec) => {
    const count = packed[at++];
    const mean = packed.subarray(at, at + spec.channels);
    at += spec.channels;
    const variance = packed.subarray(at, at + spec.channels);
    at += spec.channels;
    return { count, mean, variance };
  });
}
