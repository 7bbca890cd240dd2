/**
 * The read-latency histogram, by route template, made for the read path's hot loop. prom-client's labelled
 * `observe` validates and hashes its labels into a string on every call, and under load that cost ~3 µs per GET
 * in a CPU profile (1M customers, 8k GETs/s), a tenth of what the route itself adds to the HTTP stack. Here a
 * reading is one Map lookup by the route string, a scan of ten bounds and two additions into a Float64Array.
 *
 * It is registered in a prom-client Registry as a metric of its own and exposed in the same text as a prom-client
 * histogram: cumulative `_bucket{le=…}` series, `_sum` and `_count`, per route.
 */
import type { Metric, MetricValueWithName, Registry } from 'prom-client';

export class RouteLatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Per route: the count of each bucket (not cumulative), then +Inf's, then the sum of the values. */
  private readonly byRoute = new Map<string, Float64Array>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric<string>);
  }

  observe(route: string, seconds: number): void {
    let counts = this.byRoute.get(route);
    if (!counts) this.byRoute.set(route, (counts = new Float64Array(this.bounds.length + 2)));
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    counts[b]!++;
    counts[bounds.length + 1]! += seconds;
  }

  /** The exposition values, as prom-client's histograms give them. */
  async get() {
    const values: MetricValueWithName<string>[] = [];
    for (const [route, counts] of this.byRoute) {
      let cumulative = 0;
      for (let b = 0; b <= this.bounds.length; b++) {
        cumulative += counts[b]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: b < this.bounds.length ? this.bounds[b]! : '+Inf', route },
          value: cumulative,
        });
      }
      values.push({
        metricName: `${this.name}_sum`,
        labels: { route },
        value: counts[this.bounds.length + 1]!,
      });
      values.push({ metricName: `${this.name}_count`, labels: { route }, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.byRoute.clear();
  }
}
