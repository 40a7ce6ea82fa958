import { Histogram, type Registry } from 'prom-client';

type Exposed = Awaited<ReturnType<Histogram['get']>>;

/**
 * A Prometheus histogram of small non-negative integers that the process already counts as
 * `counts[v]` = observations of v (a shard's staleness histogram), read at each scrape rather than
 * observed a second time: one bucket per value up to the largest seen (`le="0"`, `le="1"`, …),
 * cumulative as the exposition format wants, then `+Inf`, `_sum` and `_count`.
 */
export class CountsHistogram extends Histogram {
  constructor(
    registry: Registry,
    private readonly family: string,
    private readonly help: string,
    private readonly read: () => readonly number[],
  ) {
    super({ name: family, help, registers: [registry] });
  }

  override async get(): Promise<Exposed> {
    return this.exposed();
  }

  /** What the registry formats (prom-client asks for this before `get`). */
  async getForPromString(): Promise<Exposed> {
    return this.exposed();
  }

  private exposed(): Exposed {
    const counts = this.read();
    const values: Exposed['values'] = [];
    let count = 0;
    let sum = 0;
    counts.forEach((n, value) => {
      count += n;
      sum += n * value;
      values.push({ metricName: `${this.family}_bucket`, labels: { le: value }, value: count });
    });
    values.push(
      { metricName: `${this.family}_bucket`, labels: { le: '+Inf' }, value: count },
      { metricName: `${this.family}_sum`, labels: {}, value: sum },
      { metricName: `${this.family}_count`, labels: {}, value: count },
    );
    // prom-client's types call `type` an enum; its text format writes the word itself.
    const type = 'histogram' as unknown as Exposed['type'];
    return { name: this.family, help: this.help, type, aggregator: 'sum', collect: () => undefined, values };
  }
}
