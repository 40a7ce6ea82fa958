import { ProtocolError } from './errors.js';
import { Mulberry32 } from '@dptrain/random';

export interface BackoffOptions {
  /** First delay, ms. @default 100 */
  readonly initialMs?: number;
  /** Largest delay, ms. @default 10_000 */
  readonly maxMs?: number;
  /** Growth of the delay per attempt. @default 2 */
  readonly factor?: number;
  /**
   * Share of each delay drawn at random, in [0, 1]: delay = base × (1 − jitter × u), u uniform in
   * [0, 1) from a seeded generator, so peers restarted together spread out yet runs repeat.
   * @default 0.5
   */
  readonly jitter?: number;
  /** Seed of the jitter generator (mulberry32). @default 1 */
  readonly seed?: number;
}

export interface ReconnectOptions extends BackoffOptions {
  /** Attempts in total, the first included. @default Infinity */
  readonly maxAttempts?: number;
  /** Stops waiting and rejects with signal.reason. */
  readonly signal?: AbortSignal;
  /** Called before each wait with the failed attempt (1-based), the delay and the error. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: ProtocolError }) => void;
}

/**
 * The back-off delays: base_k = min(maxMs, initialMs × factor^k) for k = 0, 1, …, each reduced by
 * the seeded jitter. Infinite; take what you need.
 * @throws RangeError naming an invalid option
 */
export function* backoffDelays(options: BackoffOptions = {}): Generator<number, never> {
  const { initialMs = 100, maxMs = 10_000, factor = 2, jitter = 0.5, seed = 1 } = options;
  requirePositive('initialMs', initialMs);
  requirePositive('maxMs', maxMs);
  if (!(factor >= 1 && Number.isFinite(factor))) throw new RangeError(`factor must be a finite number >= 1, got ${factor}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be in [0, 1], got ${jitter}`);
  if (maxMs < initialMs) throw new RangeError(`maxMs ${maxMs} is below initialMs ${initialMs}; help: raise maxMs`);
  const generator = new Mulberry32(seed);
  const random = (): number => generator.nextFloat();
  let base = initialMs;
  for (;;) {
    yield Math.round(base * (1 - jitter * random()));
    base = Math.min(maxMs, base * factor);
  }
}

/**
 * Calls `connectFn` until it resolves, waiting backoffDelays() between attempts. Only
 * ProtocolErrors the catalog marks retryable (E_CONNECT, E_TIMEOUT, E_CLOSED…) are retried; a
 * refusal such as E_AUTH or E_VERSION, or any other error, is thrown at once since retrying the
 * same call cannot fix it.
 *
 * @throws the last error after maxAttempts, or signal.reason when aborted
 * @example
 * const conn = await reconnecting(() => connect(url, opts), { initialMs: 200, seed: workerIndex });
 */
export async function reconnecting<T>(connectFn: (attempt: number) => Promise<T>, options: ReconnectOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? Infinity;
  if (!(maxAttempts >= 1)) throw new RangeError(`maxAttempts must be >= 1, got ${maxAttempts}`);
  const delays = backoffDelays(options);
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await connectFn(attempt);
    } catch (error) {
      if (!(error instanceof ProtocolError) || !error.retryable || attempt >= maxAttempts) throw error;
      const delayMs = delays.next().value;
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function requirePositive(name: string, value: number): void {
  if (!(value > 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
}
