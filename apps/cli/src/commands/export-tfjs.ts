import { resolve } from 'node:path';
import { initBackend } from '@dptrain/backend';
import { loadRunModel } from '@dptrain/training';
import { exportTfjs } from '@dptrain/training/export-tfjs';

/**
 * `dptrain export RUN --format tfjs`: the run's model as a TensorFlow.js Layers model in `out`
 * (model.json, weights.bin). The weights are copied, not computed, so the cpu backend does.
 */
export async function runExportTfjs(dir: string, out: string): Promise<void> {
  const run = await loadRunModel(dir);
  await initBackend('cpu');
  const { files, weightBytes } = await exportTfjs(run, out);
  const { inputShape, numClasses } = run.model.config;
  process.stdout.write(
    `wrote ${files.join(' and ')} (${run.model.paramCount} parameters, ${weightBytes} bytes of weights): the ${run.config.model} as a TensorFlow.js Layers model, ` +
      `input [N, ${inputShape.join(', ')}] float32 = uint8 / 255, output the softmax probabilities of ${numClasses} classes\n` +
      `load it with tf.loadLayersModel('file://${resolve(files[0]!)}') (tfjs-node), or from a URL in a browser\n`,
  );
}
