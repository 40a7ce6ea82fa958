import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect } from './client.js';
import { createServer } from './server.js';
import { maskingImplementation } from './wire-accel.js';

const saved = process.env.WS_NO_BUFFER_UTIL;
afterEach(() => {
  if (saved === undefined) delete process.env.WS_NO_BUFFER_UTIL;
  else process.env.WS_NO_BUFFER_UTIL = saved;
  vi.restoreAllMocks();
});

describe('maskingImplementation', () => {
  it('finds the native bufferutil addon on this Node version', () => {
    delete process.env.WS_NO_BUFFER_UTIL;
    expect(maskingImplementation()).toBe('native');
  });

  it('reports bufferutil disabled when WS_NO_BUFFER_UTIL is set', () => {
    process.env.WS_NO_BUFFER_UTIL = '1';
    expect(maskingImplementation()).toBe('disabled');
  });

  it('is what ws really calls: client frames are masked by bufferutil.mask', async () => {
    // ws looks bufferutil.mask up on each call, so a spy on the shared module sees its use.
    const bufferUtil = createRequire(import.meta.url)('bufferutil') as { mask: (...args: unknown[]) => void };
    const mask = vi.spyOn(bufferUtil, 'mask');
    const server = await createServer({ token: 't', jobId: 'j', role: 'ps', log: () => undefined, onConnection: () => undefined });
    const client = await connect(server.url, { token: 't', jobId: 'j', role: 'worker', log: () => undefined });
    try {
      mask.mockClear();
      await client.send({ type: 'shutdown', reason: 'a reason long enough that the frame passes the 48-byte threshold' });
      expect(mask).toHaveBeenCalledTimes(1);
    } finally {
      client.close();
      await server.close();
    }
  });
});
