// Loaded into every process of a bench:gc run (NODE_OPTIONS=--import): appends this process's
// cumulative count of major and minor collections, once a second, to
// $BENCH_GC_DIR/<pid>.jsonl, as `{ timeMs, role, major, minor }` lines.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const dir = process.env.BENCH_GC_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.jsonl`);
  const role = process.argv.slice(2).find((arg) => !arg.startsWith('-')) ?? 'node';
  let major = 0;
  let minor = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
      else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    }
  }).observe({ entryTypes: ['gc'] });
  const sample = () => appendFileSync(file, `${JSON.stringify({ timeMs: Date.now(), role, major, minor })}\n`);
  sample();
  setInterval(sample, 1000).unref();
}
