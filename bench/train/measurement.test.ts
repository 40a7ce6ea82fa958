import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRequest, requestArgs, StepClock, type MeasureRequest } from './measurement.js';

afterEach(() => vi.restoreAllMocks());

describe('requestArgs and parseRequest', () => {
  it('round-trip a request, and hand the child its own extra flags', () => {
    const request: MeasureRequest = { model: 'cnn', backend: 'cpu', batchSize: 32, microBatchSize: 8, warmup: 2, steps: 7, seed: 9 };
    const argv = [...requestArgs(request), '--kernels', 'dptrain'];
    const parsed = parseRequest(argv, { kernels: { kind: 'list', help: 'kernels', default: ['stock'], choices: ['dptrain', 'stock'] } });
    expect(parsed.request).toEqual(request);
    expect(parsed.extra.kernels).toEqual(['dptrain']);
  });

  it('refuses two models in one measurement', () => {
    expect(() => parseRequest(['--model', 'mlp,cnn'])).toThrow(/one model and one backend, got --model mlp,cnn --backend wasm/);
  });
});

describe('StepClock', () => {
  it('opens the timing at the end of the warm-up and closes one step per later tick', () => {
    // performance.now() returns 10, 20, 30, … on successive calls.
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += 10));
    const clock = new StepClock(2, 3);
    clock.tick(); // warm-up step 1: not recorded
    expect(() => clock.marksMs).toThrow('only 1 steps ran, 2 warm-up + 3 timed were requested; the training loop stopped early');
    clock.tick(); // end of warm-up: mark 0 = 10
    clock.tick(); // timed step 1 = 20
    clock.tick(); // 30
    expect(clock.done).toBe(false);
    clock.tick(); // 40
    expect(clock.done).toBe(true);
    clock.tick(); // beyond the request: ignored
    expect(clock.marksMs).toEqual([10, 20, 30, 40]);
  });
});
