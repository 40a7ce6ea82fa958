import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

// Metrics read from a role's own state at each scrape, never kept a second time beside it: a
// counter is the state's running total (set again at each scrape, not added to the last one), so
// it cannot disagree with GET /status or summary.json, and only grows while the process lives.

/** A gauge whose values `read` sets at each scrape. */
export function scrapedGauge(registry: Registry, name: string, help: string, labelNames: string[], read: (g: Gauge) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect: function (this: Gauge) {
      this.reset();
      read(this);
    },
  });
}

/** A counter whose running totals `read` sets (with `inc` from zero) at each scrape. */
export function scrapedCounter(registry: Registry, name: string, help: string, labelNames: string[], read: (c: Counter) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect: function (this: Counter) {
      this.reset();
      read(this);
    },
  });
}

/**
 * What GET /metrics serves: a role's own metrics and the process's (memory, CPU, event loop,
 * `dptrain_process_…`, `dptrain_nodejs_…`). The own registry alone is what a run folder keeps at
 * the end: the process's numbers say nothing about the run once the process is gone.
 */
export function withProcessMetrics(own: Registry): Registry {
  const processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry, prefix: 'dptrain_' });
  // prom-client's gauges `…_active_handles_total` (and requests, resources) break the naming
  // conventions (_total is a counter's); their `{type}` twins beside them hold the same counts.
  for (const metric of processRegistry.getMetricsAsArray()) {
    if (metric.name.endsWith('_total') && !(metric instanceof Counter)) processRegistry.removeSingleMetric(metric.name);
  }
  return Registry.merge([own, processRegistry]);
}
