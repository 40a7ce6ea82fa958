import type { LayerRecord } from '../common/run-folder.js';

export interface LayerNorm {
  /** The weight tensor, e.g. `block3/conv1/kernel`. */
  readonly layer: string;
  /** Position from the input (0: the stem) among the weight tensors. */
  readonly depth: number;
  readonly gradNorm: number;
}

/**
 * The gradient norm of each weight tensor (kernels: stem, every block's layers, classifier) in
 * input-to-output order. Biases, batch-norm and Fixup scalars are left out: the question is how the
 * signal fades or grows with depth through the layers that carry it.
 */
export function kernelNorms(record: LayerRecord): LayerNorm[] {
  const out: LayerNorm[] = [];
  record.names.forEach((name, i) => {
    if (name.endsWith('/kernel')) out.push({ layer: name.slice(0, -'/kernel'.length), depth: out.length, gradNorm: record.gradNorms[i]! });
  });
  return out;
}

/**
 * Largest over smallest non-zero kernel gradient norm: 1 when every layer learns at the same pace;
 * orders of magnitude when gradients vanish or explode along the depth. null without two non-zero norms.
 */
export function depthSpread(norms: readonly LayerNorm[]): number | null {
  const positive = norms.map((n) => n.gradNorm).filter((g) => Number.isFinite(g) && g > 0);
  if (positive.length < 2) return null;
  return Math.max(...positive) / Math.min(...positive);
}
