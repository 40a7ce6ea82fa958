/**
 * Initialisers, as data. Every random tensor is drawn from a uniform distribution because it
 * needs only the generator's exact arithmetic and `Math.sqrt` (correctly rounded by IEEE 754), so
 * the same seed gives the same bits everywhere; a uniform U(−a, a) has variance a²/3, so each
 * scheme below matches the variance of its better-known normal form.
 */
import { Mulberry32 } from '@dptrain/random';
import { streamState } from './prng.js';

export type Init = { readonly kind: 'uniform'; readonly limit: number } | { readonly kind: 'constant'; readonly value: number };

/**
 * He et al. (2015) for layers followed by ReLU: variance 2/fanIn, as U(−a, a) with
 * a = √(6/fanIn); `scale` multiplies a (Fixup's L^(−1/(2m−2)) rescaling).
 */
export function heUniform(fanIn: number, scale = 1): Init {
  return { kind: 'uniform', limit: scale * Math.sqrt(6 / fanIn) };
}

/** Glorot & Bengio (2010) for layers without ReLU after them: a = √(6/(fanIn + fanOut)). */
export function glorotUniform(fanIn: number, fanOut: number): Init {
  return { kind: 'uniform', limit: Math.sqrt(6 / (fanIn + fanOut)) };
}

export function constant(value: number): Init {
  return { kind: 'constant', value };
}

/** Fills `out` according to `init`, drawing from the stream of (`seed`, `name`). */
export function fillInit(out: Float32Array, init: Init, seed: number, name: string): void {
  if (init.kind === 'constant') {
    out.fill(init.value);
    return;
  }
  const rng = new Mulberry32(streamState(seed, name));
  const a = init.limit;
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.nextFloat() - 1) * a;
}
