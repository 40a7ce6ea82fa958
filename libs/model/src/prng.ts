/**
 * The streams behind parameter initialisation: one mulberry32 stream (@dptrain/random) per
 * tensor, keyed by seed and name. It runs in JavaScript, not in TensorFlow.js, so a seed gives the
 * same bits on every backend.
 */
import { ModelError } from './model-error.js';

/**
 * The state of one parameter tensor's stream: 32-bit FNV-1a over the tensor's name, seeded with
 * both halves of `seed`. Streams keyed by name make a tensor's initial values independent of
 * which other tensors the model has.
 * @throws {ModelError} `E_MODEL_SEED` when `seed` is not a non-negative safe integer.
 */
export function streamState(seed: number, name: string): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ModelError('E_MODEL_SEED', `seed ${seed} is not a non-negative integer up to 2^53 − 1; pass an integer such as 42`);
  }
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 4294967296), 0x01000193);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
