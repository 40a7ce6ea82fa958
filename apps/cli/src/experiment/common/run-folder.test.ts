import { describe, expect, it } from 'vitest';
import { parseMetrics } from './run-folder.js';

const step = (n: number): string => JSON.stringify({ kind: 'step', step: n, epoch: 1, loss: 1, lr: 0.1, gradNorm: 1 });

describe('parseMetrics', () => {
  it('splits the records by kind and skips a last line still being written', () => {
    const text = `${step(1)}\n${JSON.stringify({ kind: 'eval', step: 1, epoch: 1, split: 'test', loss: 1, accuracy: 0.5 })}\n${step(2)}\n{"kind":"st`;
    const metrics = parseMetrics(text);
    expect(metrics.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(metrics.evals).toHaveLength(1);
  });

  it('names a damaged line in the middle', () => {
    expect(() => parseMetrics(`${step(1)}\n{oops\n${step(2)}\n`)).toThrow(/line 2 of metrics.jsonl is not JSON/);
  });
});
