import { describe, expect, it } from 'vitest';
import { finish, machineNow } from '../common/report.js';
import { findings } from './findings.js';
import { COLOCATED_SERIES, project, variantsOf, type ProjectionGrid } from './project.js';
import { simulateDocuments } from './report.js';
import { TINY_FACTS, tinyCalibration, tinyJob } from './test-support.js';

const grid: ProjectionGrid = {
  workers: [2, 4],
  psShards: [1, 2],
  staleness: [2],
  backupAfter: 3,
  backupMinMs: 0,
  stragglers: { probability: 0.25, slowdown: 5 },
  wire: { latencyMs: 0.05, bandwidthMBps: 1250 },
  steps: 6,
  microBatchesPerWorker: 1,
  limitSeconds: 10,
  layouts: ['separate', 'colocated'],
  colocatedMaxWorkers: 2,
};

describe('projection of both layouts', () => {
  it('adds the co-located series to the shards question only, and only with its layout', () => {
    const both = variantsOf(grid);
    expect(both.filter((v) => v.layout === 'colocated').map((v) => [v.scenario, v.series])).toEqual([['shards', COLOCATED_SERIES]]);
    // Right after the separate layout's shard counts, in one table.
    expect(both.filter((v) => v.scenario === 'shards').map((v) => v.layout)).toEqual(['separate', 'separate', 'colocated']);
    expect(variantsOf({ ...grid, layouts: ['separate'] }).some((v) => v.layout === 'colocated')).toBe(false);
    expect(variantsOf({ ...grid, layouts: ['colocated'] }).map((v) => v.layout)).toEqual(['colocated']);
  });

  it('simulates the co-located layout with a shard per worker, up to its worker limit, next to the separate one', async () => {
    const job = tinyJob();
    const rows = await project(job, TINY_FACTS, await tinyCalibration(job), grid);
    const colocated = rows.filter((r) => r.layout === 'colocated');
    expect(colocated.map((r) => [r.scenario, r.workers, r.psShards])).toEqual([['shards', 2, 2]]);
    expect(colocated.every((r) => r.finished && r.samplesPerSecond > 0)).toBe(true);
    // The same job in the separate layout with as many shard processes puts every push and pull on the network.
    const separate = rows.find((r) => r.scenario === 'shards' && r.layout === 'separate' && r.workers === 2 && r.psShards === 2)!;
    expect(colocated[0]!.networkMBPerStep).toBeLessThan(separate.networkMBPerStep);

    const lines = findings(null, rows);
    expect(lines.find((l) => l.startsWith('- Co-located'))).toContain(`2 workers ${Math.round(colocated[0]!.samplesPerSecond).toLocaleString('en-US')}`);
    const { 'report.md': report, 'results.csv': csv } = simulateDocuments(
      {
        experiment: 'simulate',
        command: 'dptrain experiment simulate',
        machine: finish(machineNow()),
        config: {},
        calibration: await tinyCalibration(job),
        calibrationFile: 'calibration.json',
        validation: null,
        validationRepeats: 1,
        validationPriority: 0,
        validationSource: 'this run',
        grid,
        projections: rows,
      },
      [],
      lines,
    );
    expect(report).toContain('Co-located layout (`dptrain local --colocate`, projected up to 2 workers)');
    expect(report).toContain(`| ${COLOCATED_SERIES} | 2 |`);
    expect(csv.split('\n')[0]).toContain(',layout,');
  });
});
