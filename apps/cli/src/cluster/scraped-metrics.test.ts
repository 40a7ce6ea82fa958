import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { scrapedCounter, withProcessMetrics } from './scraped-metrics.js';
import { families, samples } from './test-support.js';

describe('withProcessMetrics', () => {
  it("serves the role's own metrics with the process's, every _total family a counter", async () => {
    const own = new Registry();
    let done = 4;
    scrapedCounter(own, 'dptrain_things_total', 'Things done.', [], (c) => c.inc(done));
    const served = withProcessMetrics(own);
    done = 6;
    const s = await samples(served.metrics());
    expect(s.get('dptrain_things_total')).toBe(6);
    expect(s.get('dptrain_process_resident_memory_bytes')).toBeGreaterThan(0);
    const types = await families(served.metrics());
    expect(types.get('dptrain_nodejs_active_handles')).toBe('gauge');
    expect([...types].filter(([name, type]) => name.endsWith('_total') && type !== 'counter')).toEqual([]);
    // The own registry alone (the run folder's file) has none of the process's.
    expect([...(await families(own.metrics())).keys()]).toEqual(['dptrain_things_total']);
  });
});
