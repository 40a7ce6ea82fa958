/**
 * The seeded generator behind parameter initialisation. It runs in JavaScript, not in
 * TensorFlow.js, so a seed gives the same bits on every backend, and it uses only integer
 * arithmetic and one exact division, so the bits do not depend on the platform's math library.
 */
import { ModelError } from './model-error.js';

/**
 * Mulberry32 (Tommy Ettinger, public domain): 32 bits of state, period 2^32, passes the
 * statistical tests that matter for initialisation. Returns uniform numbers in [0, 1) on the
 * grid k·2^−32.
 */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The state of one parameter tensor's stream: 32-bit FNV-1a over the tensor's name, seeded with
 * both halves of `seed`. Streams keyed by name make a tensor's initial values independent of
 * which other tensors the model has.
 * @throws {ModelError} `E_MODEL_SEED` when `seed` is not a non-negative safe integer.
 */
export function streamState(seed: number, name: string): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ModelError(
      'E_MODEL_SEED',
      `seed ${seed} is not a non-negative integer up to 2^53 − 1; pass an integer such as 42`,
    );
  }
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 4294967296), 0x01000193);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
