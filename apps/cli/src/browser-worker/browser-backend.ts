import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * TensorFlow.js's wasm backend in the tab, from the coordinator's copy of the backend's binaries
 * (`wasmDir`, served at /worker/wasm/). The page is not cross-origin isolated, so the backend
 * runs single-threaded with SIMD, as it does in a Node worker: the same binary, the same bits.
 */
export async function initBrowserBackend(wasmDir: string): Promise<string> {
  setWasmPaths(wasmDir);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its wasm backend in this browser (WebAssembly disabled?)');
  await tf.ready();
  return 'wasm';
}
