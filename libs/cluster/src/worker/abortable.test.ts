import { describe, expect, it } from 'vitest';
import { abortable } from './abortable.js';

describe('abortable', () => {
  it('settles as the promise does while the signal is not aborted', async () => {
    const controller = new AbortController();
    expect(await abortable(Promise.resolve(5), controller.signal)).toBe(5);
    const error = new Error('E_CLOSED');
    await expect(abortable(Promise.reject(error), controller.signal)).rejects.toBe(error);
  });

  it('rejects with the reason at the abort; the late settlement of the abandoned promise is ignored', async () => {
    const controller = new AbortController();
    let fail: (error: Error) => void = () => undefined;
    const never = new Promise<number>((_, reject) => (fail = reject));
    const wrapped = abortable(never, controller.signal);
    const reason = new Error('revoked');
    controller.abort(reason);
    await expect(wrapped).rejects.toBe(reason);
    // Would surface as an unhandled rejection and fail the run if it were not ignored.
    fail(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('rejects at once when the signal was aborted before', async () => {
    const controller = new AbortController();
    controller.abort('gone');
    await expect(abortable(new Promise(() => undefined), controller.signal)).rejects.toBe('gone');
  });
});
