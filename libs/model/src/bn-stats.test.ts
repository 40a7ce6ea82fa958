import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineAllMoments, combineMicroBatchMoments, combineMoments, initRunningStats, runningStatsSize, updateRunningStats } from './bn-stats.js';
import type { BnMoments, BnSpec } from './bn-stats.js';
import { ModelError } from './model-error.js';

/** Two-pass moments of `rows` (each row one sample's channels), as the oracle. */
function momentsOf(rows: readonly number[][], channels: number): BnMoments {
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (const r of rows) for (let c = 0; c < channels; c++) mean[c] += r[c] / rows.length;
  for (const r of rows) for (let c = 0; c < channels; c++) variance[c] += (r[c] - mean[c]) ** 2 / rows.length;
  return { count: rows.length, mean, variance };
}

describe('combineMoments (Chan et al.)', () => {
  it('merges [1, 2] and [3, 4, 5] into the moments of 1..5 (hand-derived)', () => {
    // a: mean 1.5, var 0.25; b: mean 4, var 2/3. δ = 2.5, n = 5:
    // mean = 1.5 + 2.5·3/5 = 3; var = (2/5)·0.25 + (3/5)·(2/3) + 2.5²·(2/5)(3/5) = 0.1 + 0.4 + 1.5 = 2.
    const m = combineMoments({ count: 2, mean: [1.5], variance: [0.25] }, { count: 3, mean: [4], variance: [2 / 3] });
    expect(m.count).toBe(5);
    expect(m.mean[0]).toBeCloseTo(3, 14);
    expect(m.variance[0]).toBeCloseTo(2, 14);
  });

  it('treats an empty side as neutral', () => {
    const m = combineMoments({ count: 0, mean: [0, 0], variance: [0, 0] }, { count: 4, mean: [1, -2], variance: [3, 0.5] });
    expect([m.count, ...m.mean, ...m.variance]).toEqual([4, 1, -2, 3, 0.5]);
  });

  it('equals the moments of the concatenated batch for any split (property)', () => {
    const channels = 3;
    const row = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: channels, maxLength: channels });
    fc.assert(
      fc.property(fc.array(fc.array(row, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }), (chunks) => {
        const combined = combineAllMoments(chunks.map((c) => momentsOf(c, channels)));
        const whole = momentsOf(chunks.flat(), channels);
        expect(combined.count).toBe(whole.count);
        for (let c = 0; c < channels; c++) {
          // Values up to 1e3: absolute error bounded by a few ulps of 1e6 (the variance scale).
          expect(Math.abs(combined.mean[c] - whole.mean[c])).toBeLessThan(1e-9);
          expect(Math.abs(combined.variance[c] - whole.variance[c])).toBeLessThan(1e-7 * Math.max(1, whole.variance[c]));
        }
      }),
      { numRuns: 300, seed: 20190 },
    );
  });

  it('rejects moments of different layers and invalid counts', () => {
    const two = { count: 1, mean: [0, 0], variance: [0, 0] };
    const one = { count: 1, mean: [0], variance: [0] };
    expect(() => combineMoments(two, one)).toThrow(/2 and 1 channels/);
    expect(() => combineMoments({ count: 1.5, mean: [0], variance: [0] }, one)).toThrow(/count 1.5/);
    expect(() => combineMoments({ count: 1, mean: [0], variance: [0, 1] }, one)).toThrow(ModelError);
    expect(() => combineAllMoments([])).toThrow(/at least one/);
  });
});

describe('combineMicroBatchMoments', () => {
  it('combines each layer across micro-batches in order', () => {
    // Layer 0 as in the hand-derived case above; layer 1: [10] ∪ [20] → mean 15, var 25.
    const out = combineMicroBatchMoments([
      [
        { count: 2, mean: [1.5], variance: [0.25] },
        { count: 1, mean: [10], variance: [0] },
      ],
      [
        { count: 3, mean: [4], variance: [2 / 3] },
        { count: 1, mean: [20], variance: [0] },
      ],
    ]);
    expect(out.map((m) => [m.count, m.mean[0], m.variance[0]])).toEqual([
      [5, 3, expect.closeTo(2, 14)],
      [2, 15, 25],
    ]);
    expect(() => combineMicroBatchMoments([[one()], [one(), one()]])).toThrow(/micro-batch 1 reports 2/);
  });
});

function one(): BnMoments {
  return { count: 1, mean: [0], variance: [0] };
}

describe('running statistics', () => {
  const specs: BnSpec[] = [
    { name: 'bn0', channels: 2, offset: 0 },
    { name: 'bn1', channels: 1, offset: 4 },
  ];

  it('lays out mean[C] then variance[C] per layer, starting at mean 0 and variance 1', () => {
    expect(runningStatsSize(specs)).toBe(6);
    expect([...initRunningStats(specs)]).toEqual([0, 0, 1, 1, 0, 1]);
  });

  it('applies new = (1 − m)·old + m·batch with the unbiased variance n/(n − 1)', () => {
    const running = initRunningStats(specs);
    updateRunningStats(running, specs, [
      { count: 5, mean: [3, -1], variance: [2, 0.4] },
      { count: 2, mean: [10], variance: [1] },
    ]);
    // bn0: mean 0.9·0 + 0.1·[3, −1] = [0.3, −0.1]; var 0.9·1 + 0.1·[2, 0.4]·5/4 = [1.15, 0.95].
    // bn1: mean 1; var 0.9 + 0.1·1·2/1 = 1.1.
    const expected = [0.3, -0.1, 1.15, 0.95, 1, 1.1];
    expected.forEach((v, i) => expect(running[i]).toBeCloseTo(v, 6));
  });

  it('offers the biased variance and any momentum in [0, 1]', () => {
    const running = initRunningStats(specs);
    updateRunningStats(
      running,
      specs,
      [
        { count: 5, mean: [3, -1], variance: [2, 0.4] },
        { count: 1, mean: [10], variance: [0] },
      ],
      { momentum: 1, unbiased: false },
    );
    // Momentum 1 replaces the running values with the batch's, σ²_B itself.
    expect([...running]).toEqual([3, -1, 2, Math.fround(0.4), 10, 0]);
    expect(() => updateRunningStats(running, specs, [one(), one()], { momentum: 0.99 + 0.02 })).toThrow(/momentum 1.01/);
  });

  it('names what is wrong with the inputs', () => {
    const running = initRunningStats(specs);
    expect(() => updateRunningStats(new Float32Array(5), specs, [])).toThrow(/5 values .* need 6/);
    expect(() => updateRunningStats(running, specs, [one()])).toThrow(/1 batch-norm layers but the model has 2/);
    expect(() => updateRunningStats(running, specs, [{ count: 4, mean: [0], variance: [1] }, one()])).toThrow(/bn0 has 2 channels but its moments have 1/);
    expect(() => updateRunningStats(running, specs, [{ count: 4, mean: [0, 0], variance: [1, 1] }, one()])).toThrow(/bn1 normalised 1 value\(s\) per channel/);
  });
});

describe('@dptrain/model/stats', () => {
  it('pulls in no TensorFlow.js: bn-stats.ts and everything it imports are free of it', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/from '@tensorflow|import '@tensorflow/);
      for (const m of source.matchAll(/from '(\.\/[^']+)\.js'/g)) visit(`${m[1]}.ts`);
    };
    visit('./bn-stats.ts');
    expect([...seen]).toEqual(['./bn-stats.ts', './model-error.ts']);
  });
});
