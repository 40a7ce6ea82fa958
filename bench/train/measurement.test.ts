import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRequest, requestArgs, RoundClock, type MeasureRequest } from './measurement.js';

afterEach(() => vi.restoreAllMocks());

describe('requestArgs and parseRequest', () => {
  it('round-trip a request, and hand the child its own extra flags', () => {
    const request: MeasureRequest = { model: 'cnn', backend: 'cpu', batchSize: 32, microBatchSize: 8, warmup: 2, steps: 7, rounds: 3, takeTurns: true, seed: 9 };
    const argv = [...requestArgs(request), '--kernels', 'dptrain'];
    const parsed = parseRequest(argv, { kernels: { kind: 'list', help: 'kernels', default: ['stock'], choices: ['dptrain', 'stock'] } });
    expect(parsed.request).toEqual(request);
    expect(parsed.extra.kernels).toEqual(['dptrain']);
  });

  it('refuses two models in one measurement', () => {
    expect(() => parseRequest(['--model', 'mlp,cnn'])).toThrow(/one model and one backend, got --model mlp,cnn --backend wasm/);
  });
});

describe('RoundClock', () => {
  it('opens a round at the end of the warm-up and after each full round, and times nothing else', async () => {
    // performance.now() returns 10, 20, 30, … on successive calls.
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += 10));
    const clock = new RoundClock({ warmup: 2, steps: 2, rounds: 2, takeTurns: false });
    expect(clock.totalSteps).toBe(6); // 2 + 2 × 2
    await clock.start();
    await clock.tick(); // warm-up step 1: not recorded
    expect(() => clock.roundsMs).toThrow('only 1 steps ran, 2 warm-up + 2 rounds × 2 timed were requested; the training loop stopped early');
    await clock.tick(); // end of warm-up: round 1 opens at 10
    await clock.tick(); // 20
    await clock.tick(); // 30; round 1 full, round 2 opens at 40
    await clock.tick(); // 50
    await clock.tick(); // 60; last round full: nothing opens
    await clock.tick(); // beyond the request: ignored
    expect(clock.roundsMs).toEqual([
      [10, 20, 30],
      [40, 50, 60],
    ]);
  });
});
