import { describe, expect, it } from 'vitest';
import { runScenario } from './chaos-run.js';

// The decoder and validator are fuzzed with 10,000+ generated frames per run in
// libs/protocol/src/fuzz.test.ts (its arbitraries come from @dptrain/protocol/testing); this
// scenario sends hostile frames to live processes instead.
describe('hostile frames sent to a live shard and coordinator', () => {
  it('11 are refused with their codes; processes alive, RSS bounded, params unchanged, job bit-identical', async () => {
    const run = await runScenario('hostile-frames');
    expect(run.row.result, run.row.detail).toBe('pass');
    // ps: 3 refused upgrades + 6 hostile headers + oversized + 2 tensors; coordinator: 3 + 6 + 1.
    expect(run.row.detail).toMatch(/^22\/22 refused as expected; alive true;/);
    expect(run.row.detail).toContain('params unchanged true');
    expect(run.bitIdentical).toBe(true);
  });
});
