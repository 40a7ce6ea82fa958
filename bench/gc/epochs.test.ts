import { describe, expect, it } from 'vitest';
import { collectionsDuring, epochSpans, stepRecords, stepsPerSecond } from './epochs.js';

const line = (record: object): string => JSON.stringify(record);

describe('stepRecords', () => {
  it('keeps the step records with their epoch and time, and skips the other kinds', () => {
    const jsonl = [
      line({ kind: 'step', step: 1, epoch: 1, loss: 2.3, time: '2026-12-07T12:00:00.000Z' }),
      line({ kind: 'eval', step: 1, epoch: 1, split: 'test', time: '2026-12-07T12:00:00.500Z' }),
      line({ kind: 'step', step: 2, epoch: 2, loss: 2.1, time: '2026-12-07T12:00:01.250Z' }),
      '',
    ].join('\n');
    expect(stepRecords(jsonl)).toEqual([
      { epoch: 1, timeMs: Date.parse('2026-12-07T12:00:00.000Z') },
      { epoch: 2, timeMs: Date.parse('2026-12-07T12:00:01.250Z') },
    ]);
  });
});

describe('epochSpans and stepsPerSecond', () => {
  it("spans each epoch's own steps, so the pause between epochs is not counted", () => {
    // Epoch 1: 5 steps 100 ms apart; a 3 s evaluation; epoch 2: 3 steps 250 ms apart.
    const records = [
      ...[0, 100, 200, 300, 400].map((t) => ({ epoch: 1, timeMs: 10_000 + t })),
      ...[0, 250, 500].map((t) => ({ epoch: 2, timeMs: 13_400 + t })),
    ];
    const spans = epochSpans(records);
    expect(spans).toEqual([
      { epoch: 1, steps: 5, startMs: 10_000, endMs: 10_400 },
      { epoch: 2, steps: 3, startMs: 13_400, endMs: 13_900 },
    ]);
    expect(stepsPerSecond(spans[0]!)).toBeCloseTo(10, 10);
    expect(stepsPerSecond(spans[1]!)).toBeCloseTo(4, 10);
  });

  it('orders epochs by number whatever the order of the records, and a one-step epoch has no rate', () => {
    const spans = epochSpans([
      { epoch: 2, timeMs: 50 },
      { epoch: 1, timeMs: 20 },
      { epoch: 1, timeMs: 10 },
    ]);
    expect(spans.map((s) => [s.epoch, s.startMs, s.endMs])).toEqual([
      [1, 10, 20],
      [2, 50, 50],
    ]);
    expect(stepsPerSecond(spans[1]!)).toBeNaN();
  });
});

describe('collectionsDuring', () => {
  const samples = [
    { timeMs: 1000, major: 0, minor: 4 },
    { timeMs: 2000, major: 1, minor: 9 },
    { timeMs: 3000, major: 12, minor: 10 },
    { timeMs: 4000, major: 25, minor: 10 },
  ];

  it('counts from the last sample at or before the start to the last one at or before the end', () => {
    expect(collectionsDuring(samples, 2000, 4000)).toEqual({ major: 24, minor: 1 });
    expect(collectionsDuring(samples, 2500, 3999)).toEqual({ major: 11, minor: 1 });
  });

  it('is undefined when no sample precedes the start', () => {
    expect(collectionsDuring(samples, 500, 3000)).toBeUndefined();
  });
});
