import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { expectTableMatches, runExperiment, type ExperimentOutput } from './experiment-run.js';

type Validation = {
  id: string;
  measured: number;
  predicted: number;
  predictedQuiet: number;
  error: number;
  min: number;
  max: number;
  spread: number;
  verdict: string;
  background: number | null;
  layout: string;
  runs: {
    samplesPerSecond: number | null;
    cpuMsPerStep: number | null;
    cpuMsPerStepByRole: { worker: number; ps: number; coordinator: number } | null;
  }[];
  cpuRatio: number | null;
  cpuShares: string | null;
  verdictAtRunSpeed: string | null;
};
type Projection = { scenario: string; series: string; workers: number; samplesPerSecond: number; finished: boolean; stepP99Ms: number; busiestShard: number };

describe('dptrain experiment simulate (tiny job, generated data)', () => {
  // Validation runs the eight real configurations for 6 steps (at the normal priority); projections are a 2×2 grid of 6 steps, and the co-located layout at 2 and 4 workers.
  const args = [
    '--dataset',
    'synthetic',
    '--validate-steps',
    '6',
    '--repeats',
    '1',
    '--priority',
    '0',
    '--workers',
    '2,4',
    '--ps-shards',
    '1,2',
    '--staleness',
    '2',
    '--projection-steps',
    '6',
    '--straggler-prob',
    '0.25',
  ];
  const svgs = ['shards.svg', 'async.svg', 'stragglers.svg', 'stragglers-p99.svg'];
  let run: ExperimentOutput;
  afterAll(() => run?.cleanup());

  it('calibrates, runs the real configurations next to their predictions, and projects', async () => {
    run = await runExperiment('simulate', args, svgs);
    const validation = run.results.validation as Validation[];
    // The six separate-layout configurations (their order is validate.test.ts's), then the co-located two.
    expect(validation).toHaveLength(8);
    expect(validation.slice(-2).map((v) => v.id)).toEqual(['sync-colocated-mb16-w1', 'sync-colocated-mb16-w2']);
    for (const v of validation) {
      expect(v.measured).toBeGreaterThan(0);
      expect(v.predicted).toBeGreaterThan(0);
      // The error is kept to 3 significant digits.
      const exact = (v.predicted - v.measured) / v.measured;
      expect(Math.abs(v.error - exact)).toBeLessThanOrEqual(0.005 * Math.max(1, Math.abs(exact)));
      expect(v.min).toBeLessThanOrEqual(v.measured);
      expect(v.max).toBeGreaterThanOrEqual(v.measured);
      expect(v.spread).toBeCloseTo((v.max - v.min) / v.measured, 2);
      expect(v.verdict).toBe(v.spread > 0.15 ? 'unmeasurable' : Math.abs(v.error) <= 0.15 ? 'within' : 'outside');
      // A 6-step run may close too few steps between its samples for a CPU figure; one that has it is judged at it too.
      const withCpu = v.runs.filter((r) => r.cpuMsPerStep !== null);
      expect(v.cpuRatio === null).toBe(withCpu.length === 0);
      expect(v.verdictAtRunSpeed === null).toBe(withCpu.length === 0);
      expect(v.cpuShares === null).toBe(withCpu.length === 0);
      for (const r of withCpu) {
        expect(r.cpuMsPerStep).toBeGreaterThan(0);
        // By process, adding up to the whole (each rounded to 3 digits); a co-located run has no shard processes.
        const { worker, ps, coordinator } = r.cpuMsPerStepByRole!;
        expect(Math.abs(worker + ps + coordinator - r.cpuMsPerStep!)).toBeLessThanOrEqual(0.01 * r.cpuMsPerStep!);
        if (v.layout === 'colocated') expect(ps).toBe(0);
      }
    }
    const projections = run.results.projections as Projection[];
    // 2 shard counts + co-located + sync and 1 staleness bound + 3 straggler variants, each at 2 and 4 workers.
    expect(projections).toHaveLength(16);
    expect(projections.every((p) => p.finished && p.samplesPerSecond > 0)).toBe(true);
    const calibration = JSON.parse(readFileSync(join(run.out, 'calibration.json'), 'utf8')) as {
      computeMs: number[];
      model: { paramCount: number };
      port?: { fixedMs: number; msPerMB: number };
      computeMsByCore?: number[];
      scheduler?: { sliceMs: number };
      cores: number;
      source: string;
    };
    expect(calibration.computeMs.length).toBeGreaterThan(10);
    // The compute timed on each core in turn, the command pinning itself with taskset.
    if (process.platform === 'linux' && calibration.cores > 1) {
      expect(calibration.computeMsByCore).toHaveLength(calibration.cores);
      expect(calibration.computeMsByCore!.every((ms) => ms > 0)).toBe(true);
      // How one CPU is shared, measured with the command pinned to one, and said in the report.
      expect(calibration.scheduler!.sliceMs).toBeGreaterThanOrEqual(0.5);
      expect(run.report).toContain(`two busy threads take turns of ${calibration.scheduler!.sliceMs.toFixed(2)} ms`);
    }
    // The co-located layout's port to the shard's thread, measured from the command as from the
    // sources. Its per-megabyte slope needs frames of a real model's size (port-cost.test.ts); this
    // tiny model's frames are a few kilobytes, within the noise, so only the fixed cost is checked.
    if (process.platform === 'linux') expect(calibration.port?.fixedMs).toBeGreaterThan(0);
    expect(run.results.calibration).toEqual(calibration);
    // Measured among the validation's rounds (here one round: all three before it), and said so.
    expect(run.results.calibratedAmongRounds).toBe(true);
    expect(run.report).toContain('the calibrations were taken among the rounds');
    expect(calibration.source).toMatch(/^the median of 3 calibrations/);
    // Eight real clusters (12 steps each) and a calibration: minutes on a loaded 2-core machine.
  });

  it('shows in report.md and results.csv the numbers results.json holds', () => {
    const validation = run.results.validation as Validation[];
    expectTableMatches(run.report, '| configuration |', validation, 'configuration', 'id', {
      'measured samples/s (median)': 'measured',
      spread: 'spread',
      'predicted samples/s': 'predicted',
      error: 'error',
      verdict: 'verdict',
    });
    const csv = run.csv.filter((r) => r.kind === 'validation');
    expect(csv.map((r) => [r.id, Number(r.measured), Number(r.predicted)])).toEqual(validation.map((v) => [v.id, v.measured, v.predicted]));
    expect(run.svgTexts['shards.svg']).toEqual(expect.arrayContaining(['sync, 1 shard', 'sync, 2 shards', 'sync, co-located (a shard in each worker)']));
    expect(run.svgTexts['async.svg']).toEqual(expect.arrayContaining(['async, staleness ≤ 2']));
    expect(run.report).toMatch(/## Calibration/);
  });

  it('predicts the real runs again with --trace: each configuration’s simulated run in the files of dptrain local --trace, which trace merge reads', async () => {
    const traces = join(run.out, 'model-traces');
    // The validation of the first test predicted again from its results.json and calibration.
    const repredict = (out: string, ...flags: string[]) =>
      runCli([
        'experiment',
        'simulate',
        '--dataset',
        'synthetic',
        '--no-project',
        '--reuse-validation',
        join(run.out, 'results.json'),
        '--calibration',
        join(run.out, 'calibration.json'),
        '--out',
        join(run.out, out),
        ...flags,
      ]);
    const again = await repredict('repredicted', '--trace', traces);
    expect(again.code, again.stderr).toBe(0);
    // Predicted from the calibration file: nothing measured among rounds, and the report does not say so.
    expect((JSON.parse(readFileSync(join(run.out, 'repredicted', 'results.json'), 'utf8')) as { calibratedAmongRounds: boolean }).calibratedAmongRounds).toBe(
      false,
    );
    expect(readFileSync(join(run.out, 'repredicted', 'report.md'), 'utf8')).not.toContain('the calibrations were taken among the rounds');
    for (const v of run.results.validation as Validation[]) {
      const workers = Number(/-w(\d+)$/.exec(v.id)![1]);
      const merged = await runCli(['trace', 'merge', join(traces, v.id), '--out', join(traces, `${v.id}.json`)]);
      expect(merged.code).toBe(0);
      const events = (JSON.parse(readFileSync(join(traces, `${v.id}.json`), 'utf8')) as { traceEvents: { name: string; ph: string; pid: number }[] })
        .traceEvents;
      const processes = new Map(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, (e as unknown as { args: { name: string } }).args.name]));
      expect([...processes.values()].sort()).toEqual(['coordinator', ...Array.from({ length: workers }, (_, k) => `worker-${k}`)]);
      // The validation's 6 steps, and every worker's leases with their compute.
      expect(events.filter((e) => e.name === 'step' && e.ph === 'B')).toHaveLength(6);
      const computing = new Set(events.filter((e) => e.name === 'compute' && e.ph === 'B').map((e) => processes.get(e.pid)));
      expect(computing.size).toBeGreaterThan(0);
      for (const name of computing) expect(name).toMatch(/^worker-\d+$/);
    }
    // The reused runs' own length is the one predicted; asking for another is refused.
    expect((JSON.parse(readFileSync(join(run.out, 'repredicted', 'results.json'), 'utf8')) as { validationSteps: number }).validationSteps).toBe(6);
    const otherLength = await repredict('other-length', '--validate-steps', '7');
    expect(otherLength.code).not.toBe(0);
    expect(otherLength.stderr).toMatch(/--validate-steps 7, but the reused validation's real runs took 6 steps each; help: leave --validate-steps out/);
  });

  it('simulates again from the calibration file without real runs, and names the fix for a bad one', async () => {
    const again = await runCli([
      'experiment',
      'simulate',
      '--dataset',
      'synthetic',
      '--no-validate',
      '--workers',
      '2',
      '--ps-shards',
      '1',
      '--staleness',
      '2',
      '--projection-steps',
      '6',
      '--out',
      join(run.out, 'again'),
      '--calibration',
      join(run.out, 'calibration.json'),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(run.out, 'again', 'report.md'), 'utf8')).toContain('Not run (`--no-validate`)');
    const bad = join(run.out, 'bad.json');
    writeFileSync(bad, JSON.stringify({ source: 'x', computeMs: [] }));
    const refused = await runCli(['experiment', 'simulate', '--dataset', 'synthetic', '--no-validate', '--out', join(run.out, 'bad'), '--calibration', bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/calibration field "model".*dptrain experiment simulate --calibrate/);
  });
});
