import { afterAll, describe, expect, it } from 'vitest';
import { expectTableMatches, runExperiment, type ExperimentOutput } from './experiment-run.js';

type Run = {
  batchSize: number;
  lr: number;
  warmupSteps: number;
  steps: number;
  testAccuracy: number | null;
  epochsToTarget: number | null;
};

describe('dptrain experiment batch-size (two batches, generated data)', () => {
  const args = ['--dataset', 'synthetic', '--batch-sizes', '32,256', '--base-batch', '64', '--lr', '0.02', '--epochs', '2', '--target-accuracy', '0.5'];
  let run: ExperimentOutput;
  afterAll(() => run?.cleanup());

  it('scales the rate with the batch, warms up the large batch and trains the same epochs', async () => {
    run = await runExperiment('batch-size', args, ['loss-vs-steps.svg', 'loss-vs-samples.svg', 'loss-vs-time.svg', 'accuracy.svg']);
    const runs = run.results.runs as Run[];
    // 1800 training samples after the 10% holdout: 2 × floor(1800 / 32) = 112 and 2 × floor(1800 / 256) = 14 steps.
    expect(runs.map((r) => [r.batchSize, r.lr, r.steps, r.warmupSteps])).toEqual([
      [32, 0.01, 112, 0],
      [256, 0.08, 14, 1],
    ]);
    for (const r of runs) expect(r.testAccuracy).toBeGreaterThan(0);
    // Read from metrics.jsonl's 1-based epochs: within the 2 epochs trained (the small batch reaches 0.5 in them).
    expect([1, 2]).toContain(runs[0]!.epochsToTarget);
    for (const r of runs) expect([null, 1, 2]).toContain(r.epochsToTarget);
  });

  it('shows in report.md and results.csv the numbers results.json holds', () => {
    expectTableMatches(run.report, '| batch |', run.results.runs as Run[], 'batch', 'batchSize', {
      'lr (linear rule)': 'lr',
      'warm-up steps': 'warmupSteps',
      steps: 'steps',
      'samples/s': 'samplesPerSecond',
      'test acc.': 'testAccuracy',
      'epochs to target': 'epochsToTarget',
      's to target': 'secondsToTarget',
    });
    expect(run.csv.map((r) => Number(r.lr))).toEqual([0.01, 0.08]);
    expect(run.svgTexts['loss-vs-samples.svg']).toEqual(expect.arrayContaining(['batch 32', 'batch 256']));
  });
});
