import { describe, expect, it } from 'vitest';
import { roundRates } from '../lib/stats.js';
import { checkTargets, ratioToTfjs, ratioToTorch, type MeasuredRow } from './compare.js';
import type { BenchBackend, BenchModel } from './measurement.js';
import type { Implementation } from './plan.js';

/** A row whose one timed step of 64 samples took 1000/rate·64 ms, so its rate is exactly `rate`. */
function row(model: BenchModel, backend: BenchBackend, implementation: Implementation, rate: number | undefined, microBatchSize = 64): MeasuredRow {
  const request = { model, backend, batchSize: 64, microBatchSize, warmup: 1, steps: 1, rounds: 1, takeTurns: false, seed: 1 };
  const base = { implementation, request, backendLabel: backend, command: 'x', args: [] };
  if (rate === undefined) return { ...base, outcome: { ok: false, reason: 'boom' } };
  const roundsMs = [[0, (64 * 1000) / rate]];
  return { ...base, outcome: { ok: true, value: { paramCount: 1, roundsMs, batchSize: 64 } }, rates: roundRates(roundsMs, 64) };
}

const rows: MeasuredRow[] = [
  row('mlp', 'wasm', 'dptrain', 2800),
  row('mlp', 'wasm', 'dptrain', 1600, 16),
  row('mlp', 'wasm', 'tfjs-dptrain-kernels', 3200),
  row('mlp', 'wasm', 'tfjs-stock', 1000),
  row('mlp', 'cpu', 'dptrain', 640),
  row('mlp', 'cpu', 'tfjs-stock', 640),
  row('mlp', 'cpu', 'torch', 4000),
  row('cnn', 'wasm', 'dptrain', 1600),
  row('cnn', 'wasm', 'tfjs-dptrain-kernels', undefined),
  row('cnn', 'cpu', 'torch', 4000),
];

describe('ratios', () => {
  it('compare with the plain tfjs loop of the same backend: dptrain kernels on wasm, stock on cpu', () => {
    expect(ratioToTfjs(rows[0], rows)).toBeCloseTo(2800 / 3200, 12); // 0.875
    expect(ratioToTfjs(rows[3], rows)).toBeCloseTo(1000 / 3200, 12);
    expect(ratioToTfjs(rows[4], rows)).toBe(1); // 640 / 640
  });

  it('compare with PyTorch on the same model, and give none when a row failed or is PyTorch itself', () => {
    expect(ratioToTorch(rows[0], rows)).toBeCloseTo(2800 / 4000, 12);
    expect(ratioToTfjs(rows[7], rows)).toBeUndefined();
    expect(ratioToTfjs(rows[6], rows)).toBeUndefined();
    expect(ratioToTorch(rows[8], rows)).toBeUndefined();
  });
});

describe('checkTargets', () => {
  it('judges the micro-batch = batch rows and reports the micro-batched ratio beside them', () => {
    const checks = checkTargets(rows, 64);
    expect(checks.map((c) => [c.label, c.status])).toEqual([
      ['mlp wasm: dptrain ≥ 0.9× plain tfjs', 'MISS'], // 2800 / 3200 = 0.875
      ['mlp cpu: dptrain ≥ 0.9× plain tfjs', 'PASS'], // 640 / 640 = 1
      ['cnn wasm: dptrain ≥ 0.9× plain tfjs', 'n/a'], // the baseline failed
      ['mlp wasm: dptrain ≥ 0.8× PyTorch', 'MISS'], // 2800 / 4000 = 0.7
      ['cnn wasm: dptrain ≥ 0.3× PyTorch', 'PASS'], // 1600 / 4000 = 0.4
    ]);
    expect(checks[0].microBatchedRatio).toBeCloseTo(1600 / 3200, 12);
    expect(checks[4].ratio).toBeCloseTo(0.4, 12);
    expect(checks[1].microBatchedRatio).toBeUndefined(); // no micro-batched cpu row
    expect(checks[0].stockRatio).toBeCloseTo(2800 / 1000, 12); // against the stock-kernel row
    expect(checks[1].stockRatio).toBeUndefined(); // on cpu stock is the baseline itself
    expect(checks[2].stockRatio).toBeUndefined(); // no stock cnn row
  });
});
