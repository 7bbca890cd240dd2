import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RouteLatencyHistogram } from '../../src/monitor/route-latency-histogram.js';

const BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1];

describe('RouteLatencyHistogram', () => {
  it("exposes the same text as prom-client's labelled histogram for the same readings", () => {
    const reading = fc.record({
      route: fc.constantFrom('/v1/views/:view/:key', '/v1/views/:view/batch'),
      // Values on the bounds themselves included: le is "less than or equal".
      seconds: fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(...BOUNDS)),
    });
    return fc.assert(
      fc.asyncProperty(fc.array(reading, { maxLength: 200 }), async (readings) => {
        const ours = new Registry();
        const theirs = new Registry();
        const fast = new RouteLatencyHistogram('t_read_seconds', 'reads', BOUNDS, ours);
        const reference = new Histogram({
          name: 't_read_seconds',
          help: 'reads',
          labelNames: ['route'],
          buckets: BOUNDS,
          registers: [theirs],
        });
        for (const { route, seconds } of readings) {
          fast.observe(route, seconds);
          reference.observe({ route }, seconds);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
    );
  });

  it('starts empty again after a reset', async () => {
    const registry = new Registry();
    const histogram = new RouteLatencyHistogram('t_read_seconds', 'reads', BOUNDS, registry);
    histogram.observe('/v1/views/:view/:key', 0.0003);
    expect(await registry.metrics()).toContain('t_read_seconds_count{route="/v1/views/:view/:key"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('_count');
  });
});
