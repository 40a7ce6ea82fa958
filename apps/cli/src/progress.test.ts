import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TrainingProgress } from './progress.js';

/** A stream (not a terminal) that keeps what was written to it, as text. */
function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join('') });
}

describe('TrainingProgress', () => {
  it('shows the 1-based epochs of the records (metrics.jsonl) as they are, and the steps within each', () => {
    const status = sink();
    const results = sink();
    // 5 steps, 3 per epoch: epoch 2 is cut short at 2 steps.
    const progress = new TrainingProgress('t', { totalSteps: 5, stepsPerEpoch: 3, batchSize: 8 }, { status, results }, 1);
    for (const step of [1, 2, 3]) progress.step({ step, epoch: 1, loss: 1 });
    progress.eval({ step: 3, epoch: 1, split: 'test', loss: 0.5, accuracy: 0.75 });
    for (const step of [4, 5]) progress.step({ step, epoch: 2, loss: 0.5 });
    progress.eval({ step: 5, epoch: 2, split: 'test', loss: 0.25, accuracy: 0.875 });
    const lines = status.text().trim().split('\n');
    expect(lines.map((l) => l.split(' loss')[0])).toEqual([
      't epoch 1/2 step 1/3',
      't epoch 1/2 step 2/3',
      't epoch 1/2 step 3/3',
      't epoch 2/2 step 1/2',
      't epoch 2/2 step 2/2',
    ]);
    expect(results.text()).toMatch(/^epoch 1\/2: train loss 1\.0000, test accuracy 75\.00% .*\nepoch 2\/2: train loss 0\.5000, test accuracy 87\.50% /);
  });
});
