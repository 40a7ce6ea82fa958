import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from './errors.js';
import { backoffDelays, reconnecting } from './reconnect.js';

const take = (n: number, iterator: Iterator<number>): number[] => Array.from({ length: n }, () => iterator.next().value as number);

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelays', () => {
  it('doubles from initialMs up to maxMs when jitter is 0', () => {
    // 100, 200, 400, 800, then min(1000, 1600) = 1000 from there on.
    expect(take(7, backoffDelays({ initialMs: 100, maxMs: 1000, jitter: 0 }))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    // factor 3: 10, 30, 90, 270, min(500, 810) = 500.
    expect(take(5, backoffDelays({ initialMs: 10, maxMs: 500, factor: 3, jitter: 0 }))).toEqual([10, 30, 90, 270, 500]);
  });

  it('draws jitter from the seed: same seed, same delays; each within [base·(1−jitter), base]', () => {
    const options = { initialMs: 100, maxMs: 1000, jitter: 0.5, seed: 42 };
    const a = take(20, backoffDelays(options));
    expect(take(20, backoffDelays(options))).toEqual(a);
    expect(take(20, backoffDelays({ ...options, seed: 43 }))).not.toEqual(a);
    const bases = take(20, backoffDelays({ ...options, jitter: 0 }));
    a.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(bases[i] / 2);
      expect(delay).toBeLessThanOrEqual(bases[i]);
    });
    // Twenty draws from a uniform generator are not all equal to the base.
    expect(a.filter((delay, i) => delay !== bases[i]).length).toBeGreaterThan(0);
  });

  it('names invalid options', () => {
    expect(() => backoffDelays({ initialMs: 0 }).next()).toThrow(/initialMs must be a finite number > 0, got 0/);
    expect(() => backoffDelays({ jitter: 2 }).next()).toThrow(/jitter must be in \[0, 1\], got 2/);
    expect(() => backoffDelays({ factor: 0.5 }).next()).toThrow(/factor must be a finite number >= 1, got 0.5/);
    expect(() => backoffDelays({ initialMs: 500, maxMs: 100 }).next()).toThrow(/maxMs 100 is below initialMs 500/);
  });
});

describe('reconnecting', () => {
  const unreachable = () => new ProtocolError('E_CONNECT', 'cannot connect to ws://127.0.0.1:9/: ECONNREFUSED');

  it('retries retryable failures after each back-off delay', async () => {
    vi.useFakeTimers({ now: 0 });
    const attemptsAt: number[] = [];
    const retries: [number, number][] = [];
    const result = reconnecting(
      async (attempt) => {
        attemptsAt.push(Date.now());
        if (attempt < 3) throw unreachable();
        return 'connected';
      },
      { initialMs: 100, jitter: 0, onRetry: ({ attempt, delayMs }) => retries.push([attempt, delayMs]) },
    );
    await vi.advanceTimersByTimeAsync(299);
    expect(attemptsAt).toEqual([0, 100]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe('connected');
    // Attempt 1 at 0 ms, wait 100; attempt 2 at 100 ms, wait 200; attempt 3 at 300 ms.
    expect(attemptsAt).toEqual([0, 100, 300]);
    expect(retries).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    vi.useFakeTimers({ now: 0 });
    let attempts = 0;
    const result = reconnecting(
      async () => {
        attempts++;
        throw unreachable();
      },
      { initialMs: 10, jitter: 0, maxAttempts: 3 },
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(attempts).toBe(3);
    expect(((await result) as ProtocolError).code).toBe('E_CONNECT');
  });

  it('does not retry refusals that retrying cannot fix, nor foreign errors', async () => {
    let attempts = 0;
    await expect(
      reconnecting(async () => {
        attempts++;
        throw new ProtocolError('E_AUTH', 'the token does not match');
      }),
    ).rejects.toMatchObject({ code: 'E_AUTH' });
    expect(attempts).toBe(1);
    await expect(reconnecting(async () => Promise.reject(new TypeError('bug')))).rejects.toThrow(TypeError);
  });

  it('stops waiting when aborted', async () => {
    vi.useFakeTimers({ now: 0 });
    const controller = new AbortController();
    let attempts = 0;
    const result = reconnecting(
      async () => {
        attempts++;
        throw unreachable();
      },
      { initialMs: 1000, jitter: 0, signal: controller.signal },
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    controller.abort(new Error('worker shutting down'));
    expect(((await result) as Error).message).toBe('worker shutting down');
    await vi.advanceTimersByTimeAsync(5000);
    expect(attempts).toBe(1);
  });
});
