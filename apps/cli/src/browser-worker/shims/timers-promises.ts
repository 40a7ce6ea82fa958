// node:timers/promises for the browser worker's bundle (injected-faults.ts waits with it).
export function setTimeout<T>(ms: number, value?: T, options: { signal?: AbortSignal } = {}): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) return reject(signal.reason);
    const timer = globalThis.setTimeout(() => resolve(value), ms);
    signal?.addEventListener('abort', () => {
      globalThis.clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
