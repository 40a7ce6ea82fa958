import { describe, expect, it } from 'vitest';
import { waitFor } from './processes.js';

describe('waitFor', () => {
  it('treats a probe that throws as not ready yet and keeps polling', async () => {
    let calls = 0;
    await waitFor(
      'the third probe',
      () => {
        calls++;
        if (calls < 3) throw new Error('fetch failed');
        return true;
      },
      5_000,
    );
    expect(calls).toBe(3);
  });

  it('names the last probe failure when it times out', async () => {
    await expect(waitFor('a status that never answers', () => Promise.reject(new Error('ECONNREFUSED')), 120)).rejects.toThrow(
      /timed out after 120 ms waiting for a status that never answers; the last probe failed: Error: ECONNREFUSED/,
    );
  });
});
