import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellArgs } from '../scaling/cell.js';
import { readValidation } from './calibration-file.js';
import { TINY_FACTS, tinyCalibration, tinyJob } from './test-support.js';
import { layoutOf, predictor, validationCells } from './validate.js';

// The plumbing only: the real runs of a validation take minutes and are not started here.
const cell = (id: string) => validationCells(4, 2).find((c) => c.id === id)!;

describe('validation of both layouts', () => {
  it('runs the co-located layout in sync mode with 1 and 2 workers, a shard in each worker, after the separate configurations', () => {
    const cells = validationCells(16, 2);
    expect(cells.map((c) => c.id)).toEqual([
      'sync-s1-mb16-w1',
      'sync-s1-mb16-w2',
      'sync-s2-mb16-w1',
      'sync-s2-mb16-w2',
      'async-s1-mb16-w1',
      'async-s1-mb16-w2',
      'sync-colocated-mb16-w1',
      'sync-colocated-mb16-w2',
    ]);
    const colocated = cells.filter((c) => layoutOf(c) === 'colocated');
    expect(colocated.map((c) => [c.mode, c.workers, c.psShards])).toEqual([
      ['sync', 1, 1],
      ['sync', 2, 2],
    ]);
    // The coordinator and the workers, with no shard processes.
    expect(colocated.map((c) => c.processes)).toEqual([2, 3]);
  });

  it('starts a co-located configuration as dptrain local --colocate with a shard per worker, and a separate one without', () => {
    const job = tinyJob();
    const [separate, colocated] = [cell('sync-s2-mb4-w2'), cell('sync-colocated-mb4-w2')];
    const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
    const colocatedArgs = cellArgs(job, colocated);
    expect(colocatedArgs).toContain('--colocate');
    expect([flag(colocatedArgs, '--workers'), flag(colocatedArgs, '--ps-shards')]).toEqual(['2', '2']);
    expect(cellArgs(job, separate)).not.toContain('--colocate');
  });

  it('starts a pinned configuration with --pin-cpus and predicts it with its processes on their cores', async () => {
    const job = tinyJob();
    const calibration = await tinyCalibration(job);
    const separate = cell('sync-s1-mb4-w2');
    expect(cellArgs(job, { ...separate, pinCpus: true })).toContain('--pin-cpus');
    expect(cellArgs(job, separate)).not.toContain('--pin-cpus');
    const rate = async (pinned: boolean) =>
      (await (await predictor(job, TINY_FACTS, calibration, { ...separate, layout: 'separate', pinned }))(0)).samplesPerSecond;
    // Pinned, the shard shares worker-0's core and the coordinator worker-1's; unpinned any thread takes a free core.
    expect(await rate(true)).not.toBe(await rate(false));
  });

  it('predicts each configuration in its own layout', async () => {
    const job = tinyJob();
    const calibration = await tinyCalibration(job);
    const inProcess = async (id: string) => (await (await predictor(job, TINY_FACTS, calibration, { ...cell(id), layout: layoutOf(cell(id)) }))(0)).inProcess;
    expect((await inProcess('sync-s2-mb4-w2')).frames).toBe(0);
    expect((await inProcess('sync-colocated-mb4-w2')).frames).toBeGreaterThan(0);
  });

  it('reads the rows of a validation written before the layouts as the separate layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dptrain-validation-'));
    try {
      const file = join(dir, 'results.json');
      writeFileSync(file, JSON.stringify({ validation: [{ id: 'sync-s1-mb16-w1', workers: 1, psShards: 1, mode: 'sync' }], validationRepeats: 3 }));
      expect((await readValidation(file)).validation.map((r) => r.layout)).toEqual(['separate']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the runs of a validation written before they were kept whole from its "rate (background)" text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dptrain-validation-'));
    try {
      const file = join(dir, 'results.json');
      const row = { id: 'sync-s1-mb16-w1', workers: 1, psShards: 1, mode: 'sync', repeats: '4075 (0.00) / — (?) / 4549 (0.25)' };
      writeFileSync(file, JSON.stringify({ validation: [row], validationRepeats: 3 }));
      expect((await readValidation(file)).validation[0].runs).toEqual([
        { samplesPerSecond: 4075, background: 0 },
        { samplesPerSecond: null, background: null },
        { samplesPerSecond: 4549, background: 0.25 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
