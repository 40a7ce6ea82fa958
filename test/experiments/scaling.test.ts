import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectTableMatches, runExperiment, type ExperimentOutput } from './experiment-run.js';

type Cell = {
  id: string;
  mode: string;
  processes: number;
  oversubscribed: boolean;
  samplesPerSecond: number;
  computeMs: number;
  applyMs: number;
  wireMBPerStep: number;
  staleness: string | null;
  finalLoss: number;
};

describe('dptrain experiment scaling (tiny grid, generated data)', () => {
  const args = ['--dataset', 'synthetic', '--steps', '6', '--workers', '1', '--mode', 'sync,async', '--ps-shards', '1,2', '--micro-batch-size', '16'];
  let run: ExperimentOutput;
  afterAll(() => run?.cleanup());

  it('runs every cell the cluster accepts as dptrain local and lists the refused ones', async () => {
    run = await runExperiment('scaling', args, ['throughput.svg', 'efficiency.svg', 'time-split.svg']);
    const cells = run.results.cells as Cell[];
    expect(cells.map((c) => c.id)).toEqual(['sync-s1-mb16-w1', 'sync-s2-mb16-w1', 'async-s1-mb16-w1']);
    expect(run.results.refused).toEqual([{ id: 'async-s2-mb16-w1', reason: expect.stringMatching(/^mode async needs one parameter-server shard/) }]);
    expect(run.report).toContain('- async-s2-mb16-w1: mode async needs one parameter-server shard');
    for (const c of cells) {
      expect(c.samplesPerSecond).toBeGreaterThan(0);
      expect(c.computeMs).toBeGreaterThan(0);
      expect(c.applyMs).toBeGreaterThan(0);
      expect(c.oversubscribed).toBe(c.processes > availableParallelism());
    }
    // Synchronous cells train the same job bit for bit, whatever the shards.
    expect(cells[0]!.finalLoss).toBe(cells[1]!.finalLoss);
    // Async: every accepted micro-batch gradient is in the histogram: 6 steps × 64 / 16.
    expect(cells[2]!.staleness!.split('/').reduce((a, n) => a + Number(n), 0)).toBe(24);
    expect(cells[0]!.staleness).toBeNull();
    // Counted on the wire: at least a pull and a push of the whole vector per step (the job's MLP on
    // the generated data); async pulls and pushes per micro-batch, four times as many.
    const { paramCount } = JSON.parse(readFileSync(join(run.out, 'runs', 'sync-s1-mb16-w1', 'summary.json'), 'utf8')) as { paramCount: number };
    const vectorMB = (4 * paramCount) / 1e6;
    expect(cells[0]!.wireMBPerStep).toBeGreaterThan(2 * vectorMB);
    expect(cells[2]!.wireMBPerStep).toBeGreaterThan(8 * vectorMB);
  });

  it('shows in report.md and results.csv the numbers results.json holds', () => {
    const cells = run.results.cells as Cell[];
    expectTableMatches(run.report, '| cell |', cells, 'cell', 'id', {
      processes: 'processes',
      oversubscribed: 'oversubscribed',
      'samples/s (steady)': 'samplesPerSecond',
      'compute ms/step': 'computeMs',
      'pull ms/step': 'pullMs',
      'server apply ms/step': 'applyMs',
      'wire MB/step (counted)': 'wireMBPerStep',
      'staleness histogram': 'staleness',
      'last step loss': 'finalLoss',
    });
    expect(run.csv.map((r) => [r.id, Number(r.samplesPerSecond)])).toEqual(cells.map((c) => [c.id, c.samplesPerSecond]));
  });

  it('plots each series with its ideal line, and says why the DDP anchor did not run', () => {
    expect(run.svgTexts['throughput.svg']).toEqual(expect.arrayContaining(['sync shards=1 mb=16', 'async shards=1 mb=16', 'ideal: one worker × workers']));
    // The ideal line is dashed, the measured one solid, both in the series' colour.
    const throughput = readFileSync(join(run.out, 'throughput.svg'), 'utf8');
    const line = (kind: string): { colour?: string; dash?: string } => {
      const match = new RegExp(
        `<path aria-label="[^"]*series: sync shards=1 mb=16; line: ${kind}" role="graphics-symbol" aria-roledescription="line mark"[^>]* stroke="(#\\w+)"[^>]* stroke-dasharray="([\\d,]+)"`,
      ).exec(throughput);
      return { colour: match?.[1], dash: match?.[2] };
    };
    const ideal = line('ideal: one worker × workers');
    const measured = line('measured');
    expect([ideal.dash, measured.dash]).toEqual(['6,4', '1,0']);
    expect(ideal.colour).toMatch(/^#/);
    expect(ideal.colour).toBe(measured.colour);
    expect(run.svgTexts['time-split.svg']).toEqual(expect.arrayContaining(['compute', 'pull', 'push', 'wait', 'async-s1-mb16-w1']));
    expect(run.results.ddp).toEqual({ skipped: expect.stringMatching(/Fashion-MNIST only/) });
    expect(run.report).toMatch(/Skipped: the DDP anchor trains on Fashion-MNIST only/);
    expect(run.report).toMatch(/Load average \(1, 5, 15 min\) at the start: [\d.]+, [\d.]+, [\d.]+/);
  });
});
