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

  it('is what ws would call, but dptrain clients send with an all-zero key: their frames are neither masked nor unmasked', async () => {
    // ws looks bufferutil.mask/unmask up on each call, so spies on the shared module see their use.
    const bufferUtil = createRequire(import.meta.url)('bufferutil') as { mask: (...args: unknown[]) => void; unmask: (...args: unknown[]) => void };
    const mask = vi.spyOn(bufferUtil, 'mask');
    const unmask = vi.spyOn(bufferUtil, 'unmask');
    const reason = 'a reason long enough that the frame passes the 48-byte threshold';
    let received: (value: string) => void = () => undefined;
    const arrived = new Promise<string>((resolve) => (received = resolve));
    const server = await createServer({
      token: 'wire-accel-test-token',
      jobId: 'j',
      role: 'ps',
      log: () => undefined,
      onConnection: (connection) => connection.on('message', (msg) => msg.type === 'shutdown' && received(msg.reason)),
    });
    const client = await connect(server.url, { token: 'wire-accel-test-token', jobId: 'j', role: 'coordinator', log: () => undefined });
    try {
      mask.mockClear();
      unmask.mockClear();
      await client.send({ type: 'shutdown', reason });
      expect(await arrived).toBe(reason);
      expect(mask).not.toHaveBeenCalled();
      expect(unmask).not.toHaveBeenCalled();
    } finally {
      client.close();
      await server.close();
    }
  });
});
