/**
 * The server's Prometheus metrics (prom-client), in one registry per server: events in, duplicates and
 * rejections by reason, the processor's lag behind the log, freshness (acknowledgement → applied) and read
 * latency histograms, and derived values that came out null from a NaN or an infinity.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OnlineProcessor } from '../engine/online/processor.js';
import { RouteLatencyHistogram } from './route-latency-histogram.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly eventsAccepted = new Counter({
    name: 'tributary_events_accepted_total',
    help: 'Events accepted (durable) per stream or table',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly eventsDuplicate = new Counter({
    name: 'tributary_events_duplicate_total',
    help: 'Copies of an already accepted event id, ignored',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'tributary_events_rejected_total',
    help: 'Events refused and dead-lettered, by reason',
    labelNames: ['stream', 'reason'],
    registers: [this.registry],
  });
  readonly freshness = new Histogram({
    name: 'tributary_freshness_seconds',
    help: 'Time from an event acknowledged by ingest to its application to the online state',
    labelNames: ['stream'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers: [this.registry],
  });
  readonly readLatency = new RouteLatencyHistogram(
    'tributary_read_seconds',
    'Feature read requests, by route template, from request to response',
    [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1],
    this.registry,
  );

  constructor(processor?: OnlineProcessor) {
    if (!processor) return;
    new Gauge({
      name: 'tributary_log_lag_records',
      help: 'Records in the log not yet applied to the online state',
      registers: [this.registry],
      collect() {
        this.set(processor.status().behind);
      },
    });
    new Gauge({
      name: 'tributary_derived_nulls',
      help: 'Derived values that came out null from a NaN, an infinity or an error (semantics.md)',
      labelNames: ['view'],
      registers: [this.registry],
      collect() {
        for (const view of Object.keys(processor.core.plan.views))
          this.set({ view }, processor.core.view(view).stats.derivedNulls);
      },
    });
    processor.onApplied = (stream, ms) => this.freshness.observe({ stream }, ms / 1000);
  }
}
