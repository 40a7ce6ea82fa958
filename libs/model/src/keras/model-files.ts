/**
 * A Layers model as the files TensorFlow.js reads: `model.json` (the topology, a weights manifest
 * naming one weights file, optional user-defined metadata) and the weights file, the float32
 * values of every weight in the manifest's order. `tf.loadLayersModel` reads them from a URL
 * (`http://…/model.json` in a browser, `file://…/model.json` with tfjs-node); Python's
 * `tensorflowjs_converter --input_format tfjs_layers_model` turns them into a Keras model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface LayersModelFiles {
  /** The text of `model.json`. */
  readonly modelJson: string;
  /** The contents of the weights file `model.json` names. */
  readonly weights: Uint8Array;
}

/** The files of `model`; `model.json` names the weights file `weightsFile` and carries `metadata` as userDefinedMetadata. */
export async function layersModelFiles(
  model: tfl.LayersModel,
  options: { weightsFile?: string; metadata?: Record<string, unknown> } = {},
): Promise<LayersModelFiles> {
  const { weightsFile = 'weights.bin', metadata } = options;
  if (metadata) model.setUserDefinedMetadata(metadata);
  let files: LayersModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      files = { modelJson: `${JSON.stringify(json, null, 1)}\n`, weights: new Uint8Array(data) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return files!;
}
