/**
 * Registers every gradient function that `@tensorflow/tfjs-core` ships, as importing the
 * `@tensorflow/tfjs` umbrella package does in a user's program. The Node entry of tfjs-core
 * registers none, and its `register_all_gradients.js` fails to load under Node's ESM resolver (a
 * directory import in `base.js`), so the single `dist/gradients/*_grad.js` files are imported one
 * by one. `Prod_grad.js` is the one file with that directory import; no bench model uses `Prod`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

const UNLOADABLE = new Set(['Prod_grad.js']);

/** Registers the shipped gradients not yet registered; returns how many were registered. */
export async function registerStockGradients(): Promise<number> {
  const dir = dirname(fileURLToPath(import.meta.resolve('@tensorflow/tfjs-core/dist/gradients/Add_grad.js')));
  let registered = 0;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('_grad.js') || UNLOADABLE.has(file)) continue;
    const module = (await import(`${dir}/${file}`)) as Record<string, tf.GradConfig>;
    for (const config of Object.values(module)) {
      if (tf.getGradient(config.kernelName) === undefined) {
        tf.registerGradient(config);
        registered += 1;
      }
    }
  }
  return registered;
}
