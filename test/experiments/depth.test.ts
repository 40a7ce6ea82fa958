import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { expectTableMatches, runExperiment, type ExperimentOutput } from './experiment-run.js';

type Summary = {
  norm: string;
  sameTrajectory: boolean;
  spreadAtStart: number | null;
};

describe('dptrain experiment depth (tiny ResNet, generated data)', () => {
  const args = ['--dataset', 'synthetic', '--blocks', '2', '--width', '4', '--norms', 'none,fixup', '--snapshots', '2,4'];
  let run: ExperimentOutput;
  afterAll(() => run?.cleanup());

  it('takes per-layer gradient norms at step 1 and each snapshot, from runs on one trajectory', async () => {
    run = await runExperiment('depth', args, ['grad-norm-by-depth.svg', 'grad-norm-over-training.svg', 'loss.svg', 'global-grad-norm.svg']);
    const layers = run.results.layers as { norm: string; step: number; norms: { layer: string }[] }[];
    expect(layers.map((l) => `${l.norm}@${l.step}`)).toEqual(['none@1', 'none@2', 'none@4', 'fixup@1', 'fixup@2', 'fixup@4']);
    // stem, two blocks of two layers, classifier.
    expect(layers[0]!.norms.map((n) => n.layer)).toEqual(['stem', 'block0/conv0', 'block0/conv1', 'block1/conv0', 'block1/conv1', 'logits']);
    const summaries = run.results.summaries as Summary[];
    expect(summaries.map((s) => [s.norm, s.sameTrajectory])).toEqual([
      ['none', true],
      ['fixup', true],
    ]);
    expect(run.csv.length).toBe(6 * 6);
  });

  it('shows in report.md the numbers results.json holds, and plots each variant', () => {
    expectTableMatches(run.report, '| normalization |', run.results.summaries as Summary[], 'normalization', 'norm', {
      'loss at step 1': 'firstLoss',
      'test acc.': 'testAccuracy',
      'grad-norm spread at step 1': 'spreadAtStart',
      'spread at the end': 'spreadAtEnd',
      'snapshot runs on one trajectory': 'sameTrajectory',
    });
    expect(run.svgTexts['grad-norm-by-depth.svg']).toEqual(expect.arrayContaining(['none (He init)', 'Fixup', 'step 1', 'step 4']));
  });

  it('refuses the cosine schedule, whose rates depend on the run length', async () => {
    const result = await runCli(['experiment', 'depth', '--dataset', 'synthetic', '--schedule', 'cosine', '--out', '/nonexistent/never-written']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--schedule cosine depends on the run length.*give --schedule constant/);
  });
});
