import { describe, expect, it } from 'vitest';
import { measurePort } from './port-cost.js';
import { schedstatNs, thisThreadSchedstat } from './main-thread-cpu.js';

const linux = schedstatNs('/proc/thread-self/schedstat') !== undefined;

describe.skipIf(!linux)('measuring the port between a worker and its shard’s thread (Linux: threads’ CPU from schedstat)', () => {
  it('reads a thread’s own CPU under its id, where another thread of the process can read it', () => {
    const path = thisThreadSchedstat()!;
    expect(path).toMatch(new RegExp(`^/proc/${process.pid}/task/\\d+/schedstat$`));
    expect(schedstatNs(path)).toBeGreaterThan(0);
  });

  it('times real frames across a real MessagePort to a thread: with a free codec, the port’s cost holds all of a frame’s copying', async () => {
    const free = { fixedMs: 0, msPerMB: 0 };
    // The size of the validation's model (0.94 MB a frame): a smaller frame's copying drowns in the rounds' noise.
    const port = (await measurePort(235_146, free, free))!;
    expect(port).toBeDefined();
    // Every tensor byte is encoded into one buffer, handed over and decoded: work per megabyte on both threads.
    expect(port.msPerMB).toBeGreaterThan(0);
    expect(port.fixedMs).toBeGreaterThan(0);
    for (const v of Object.values(port)) expect(Number.isFinite(v) && v >= 0).toBe(true);
  });
});
