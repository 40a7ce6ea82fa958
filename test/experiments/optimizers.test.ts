import { afterAll, describe, expect, it } from 'vitest';
import { expectTableMatches, runExperiment, type ExperimentOutput } from './experiment-run.js';

type Run = {
  id: string;
  optimizer: string;
  lr: number;
  bestValidationAccuracy: number | null;
  testAccuracy: number | null;
  generalizationGap: number | null;
};

describe('dptrain experiment optimizers (two optimizers, generated data)', () => {
  const args = ['--dataset', 'synthetic', '--optimizers', 'sgd,adam', '--lr-factors', '1', '--epochs', '2', '--steps', '40'];
  let run: ExperimentOutput;
  afterAll(() => run?.cleanup());

  it('trains each optimizer at each rate with holdout validation and tables the best of each', async () => {
    run = await runExperiment('optimizers', args, ['train-loss.svg', 'loss-by-epoch.svg', 'accuracy-by-epoch.svg', 'lr-sweep.svg']);
    const runs = run.results.runs as Run[];
    expect(runs.map((r) => r.id)).toEqual(['sgd-lr0.1', 'adam-lr0.001']);
    for (const r of runs) {
      expect(r.bestValidationAccuracy).toBeGreaterThan(0);
      expect(r.testAccuracy).toBeGreaterThan(0);
      expect(r.generalizationGap).not.toBeNull();
    }
    expect(run.results.runner).toBe('local');
    expect(run.report).toMatch(
      /## Does SGD generalize better than Adam here\? \(Wilson et al., 2018\)\n\nBest non-adaptive method by validation accuracy: \*\*sgd\*\* \(lr 0\.1\)/,
    );
  });

  it('shows in report.md and results.csv the numbers results.json holds', () => {
    const columns = {
      lr: 'lr',
      'best validation acc.': 'bestValidationAccuracy',
      'test acc. there': 'testAccuracy',
      'gap (test − train loss)': 'generalizationGap',
      'steps to target loss': 'stepsToTarget',
    };
    expectTableMatches(run.report, '## Every run', run.results.runs as Run[], 'optimizer', 'optimizer', columns);
    expectTableMatches(run.report, '## Best learning rate', run.results.best as Run[], 'optimizer', 'optimizer', columns);
    expect(run.csv.map((r) => [r.id, Number(r.testAccuracy)])).toEqual((run.results.runs as Run[]).map((r) => [r.id, r.testAccuracy]));
  });

  it('draws one curve per optimizer and the train, validation and test panels', () => {
    expect(run.svgTexts['train-loss.svg']).toEqual(expect.arrayContaining(['sgd (lr 0.1)', 'adam (lr 0.001)']));
    expect(run.svgTexts['loss-by-epoch.svg']).toEqual(expect.arrayContaining(['train', 'validation', 'test']));
  });
});
