import { basename } from 'node:path';
import { gather, readImageFile, type Split } from '@dptrain/data';
import { argmax, softmax } from '@dptrain/model';
import type { Logger } from '../logger.js';
import { classLabel, openRun } from './open-run.js';

export interface PredictOptions {
  /** Samples classified per IDX file, its first ones. @default all */
  readonly limit?: number;
  readonly backend?: string;
  readonly json: boolean;
}

interface Prediction {
  readonly file: string;
  /** The sample's index in its file (0 for a PNG). */
  readonly index: number;
  readonly class: number;
  readonly name: string | null;
  readonly probabilities: number[];
}

/** Samples per forward pass. */
const BATCH = 1000;

/**
 * `dptrain predict RUN IMAGE…`: the class the run's model gives each image (a PNG, or each sample
 * of an IDX image file), with its softmax probabilities. Pixels are scaled exactly as in training
 * (gather: byte/255 as float32), and batch norm uses the running statistics, as in evaluation.
 */
export async function runPredict(dir: string, images: readonly string[], options: PredictOptions, logger: Logger): Promise<void> {
  const { run, backend } = await openRun(dir, options.backend, logger);
  const [rows, cols] = run.model.config.inputShape as [number, number, number];
  const k = run.model.config.numClasses;
  const predictions: Prediction[] = [];
  for (const path of images) {
    const file = await readImageFile(path, { rows, cols });
    const count = Math.min(file.count, options.limit ?? file.count);
    // Unlabelled samples: gather scales the pixels, its labels are placeholders.
    const split: Split = { images: file.images, labels: new Uint8Array(file.count), count: file.count, features: rows * cols };
    for (let start = 0; start < count; start += BATCH) {
      const n = Math.min(BATCH, count - start);
      const { x } = gather(
        split,
        Array.from({ length: n }, (_, i) => start + i),
      );
      const logits = run.model.logits(run.params, run.bnState, x, n);
      for (let i = 0; i < n; i++) {
        const row = logits.subarray(i * k, (i + 1) * k);
        const predicted = argmax(row);
        const prediction = {
          file: path,
          index: start + i,
          class: predicted,
          name: run.classNames?.[predicted] ?? null,
          probabilities: Array.from(softmax(row)),
        };
        if (options.json) predictions.push(prediction);
        else process.stdout.write(line(prediction, file.format === 'idx', run.classNames));
      }
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ run: dir, backend, classNames: run.classNames ?? null, predictions })}\n`);
}

function line(p: Prediction, indexed: boolean, classNames: readonly string[] | undefined): string {
  const source = indexed ? `${basename(p.file)}[${p.index}]` : basename(p.file);
  return `${source}  ${classLabel(p.class, classNames)}  p=${p.probabilities[p.class]!.toFixed(3)}  [${p.probabilities.map((q) => q.toFixed(3)).join(' ')}]\n`;
}
