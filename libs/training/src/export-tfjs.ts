// `@dptrain/training/export-tfjs`: a separate entry, so only `dptrain export` loads tfjs-layers.
import { join } from 'node:path';
import { layersModelFiles, toLayersModel, type NamedTensor } from '@dptrain/model/keras';
import { makeDirectory, writeFileAtomic } from '@dptrain/safetensors';
import { describeModel } from './model-metadata.js';
import { modelTensors } from './param-tensors.js';
import type { RunModel } from './run-model.js';

export interface TfjsExport {
  /** The files written, model.json first. */
  readonly files: readonly string[];
  readonly weightBytes: number;
}

/**
 * Writes the run's model into `dir` as a TensorFlow.js Layers model: `model.json` (the Keras
 * topology, ending in a softmax layer `probabilities` after the logits, with the model's
 * description as `userDefinedMetadata.dptrain`) and `weights.bin`. Existing files of those names
 * are replaced (the export of a run is always the same).
 * @throws {ModelError} `E_MODEL_EXPORT` for a model no Keras layers hold (a Fixup resnet).
 */
export async function exportTfjs(run: RunModel, dir: string): Promise<TfjsExport> {
  const tensors = new Map<string, NamedTensor>(
    modelTensors(run.model, run.params, run.bnState).map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]),
  );
  const keras = toLayersModel(run.model.graph, run.model.config.inputShape, tensors, `dptrain_${run.config.model}`);
  try {
    const { modelJson, weights } = await layersModelFiles(keras, { metadata: { dptrain: describeModel(run.model, run.config.dataset) } });
    await makeDirectory(dir);
    const files = [join(dir, 'model.json'), join(dir, 'weights.bin')];
    // Weights first: a model.json is never left pointing at missing weights.
    await writeFileAtomic(files[1]!, weights);
    await writeFileAtomic(files[0]!, modelJson);
    return { files, weightBytes: weights.byteLength };
  } finally {
    keras.dispose();
  }
}
