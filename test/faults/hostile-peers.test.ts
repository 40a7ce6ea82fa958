import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// Peers that hold the job's token and misbehave (docs/SECURITY.md), each against a live
// coordinator and shard (dptrain chaos --scenario NAME): the attack is refused, no process ends but
// by design, and the job ends with the bits of dptrain train, or fails within a bound naming why.
describe('hostile peers holding the token', () => {
  for (const name of ['tiny-payload-peer', 'unticketed-pushes', 'fake-worker', 'slow-reader', 'parked-pulls', 'evict-by-register']) {
    it(`${name}: refused, processes alive, bit-identical`, async () => {
      const run = await runScenario(name);
      expect(run.row.result, run.row.detail).toBe('pass');
      expect(run.bitIdentical).toBe(true);
    });
  }

  it('overflowing-pushes: the shard refuses the step and the job fails naming it', async () => {
    const run = await runScenario('overflowing-pushes');
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.row.detail).toMatch(
      /pushes acknowledged ok, ok, ok, ok; the coordinator exited 1 saying "E_NON_FINITE: parameter-server shard 0 refused step 0/,
    );
  });

  it('read-only-checkpoints: the shard exits at once naming EROFS, the coordinator says what it waits for', async () => {
    const run = await runScenario('read-only-checkpoints');
    if (run.row.result.startsWith('skipped')) {
      console.warn(`read-only-checkpoints ${run.row.result}`);
      return;
    }
    expect(run.row.result, run.row.detail).toBe('pass');
    expect(run.bitIdentical).toBe(true);
  });
});
