/**
 * Random definitions, streams and reference-table rows for the property tests that hold the engines to the
 * reference: one customer entity, a payments stream with nulls, ties, late events and re-used ids, and a lookup
 * of merchants as of each event's time.
 */
import fc from 'fast-check';
import type { AggregationSource, ProjectSource } from '../../src/definitions/source.js';
import type { ReferenceEvent, ReferenceTableRow } from './reference.js';

export const BASE = 1_767_225_600_000; // 2026-01-01T00:00:00Z
export const STEP = 500;

export const schema = {
  type: 'object',
  required: ['paymentId', 'customerId', 'merchantId', 'ts'],
  properties: {
    paymentId: { type: 'string' },
    customerId: { type: 'string' },
    merchantId: { type: 'string' },
    ts: { type: 'integer' },
    amount: { type: ['number', 'null'] },
    lat: { type: ['number', 'null'] },
    lon: { type: ['number', 'null'] },
    channel: { type: ['string', 'null'] },
    device: { type: ['string', 'null'] },
  },
};

const windowArb = fc.constantFrom<string | undefined>(undefined, '1s', '5s', '30s', '1m', '5m');
const numericField = fc.constantFrom('amount', 'lat');
const anyField = fc.constantFrom(
  'amount',
  'merchantId',
  'channel',
  'merchant.category',
  'lat',
  'paymentId',
  'device',
);

const aggregationArb: fc.Arbitrary<AggregationSource> = fc
  .oneof(
    fc.record({ fn: fc.constantFrom('count', 'timeSinceLast', 'timeSinceFirst'), window: windowArb }),
    fc.record({
      fn: fc.constantFrom('sum', 'mean', 'min', 'max', 'stddev', 'variance'),
      field: numericField,
      window: windowArb,
    }),
    fc.record({
      fn: fc.constant('approxQuantile'),
      field: numericField,
      q: fc.constantFrom(0.01, 0.5, 0.9, 1),
      window: windowArb,
    }),
    fc.record({
      fn: fc.constantFrom('countDistinct', 'approxCountDistinct'),
      field: anyField,
      window: windowArb,
    }),
    fc.record({ fn: fc.constantFrom('first', 'last'), field: anyField, window: windowArb }),
    fc.record({
      fn: fc.constantFrom('first', 'last'),
      fields: fc.constant<string[]>(['lat', 'lon']),
      window: windowArb,
    }),
    fc.record({
      fn: fc.constantFrom('firstK', 'lastK'),
      field: anyField,
      k: fc.integer({ min: 1, max: 4 }),
      window: windowArb,
    }),
  )
  .map((agg) => (agg.window === undefined ? { ...agg, window: undefined } : agg));

const bucketed = fc
  .record({
    fn: fc.constantFrom('count', 'sum'),
    field: fc.constant('amount'),
    window: fc.constant('30s'),
    bucket: fc.constantFrom('1s', '10s'),
  })
  .map((a) => (a.fn === 'count' ? { fn: a.fn, window: a.window, bucket: a.bucket } : a));

export const projectArb = fc
  .record({
    aggregations: fc.array(
      fc.oneof({ weight: 8, arbitrary: aggregationArb }, { weight: 1, arbitrary: bucketed }),
      { minLength: 1, maxLength: 8 },
    ),
    where: fc.constantFrom(
      undefined,
      'amount > 0.0',
      "merchant.category != 'test'",
      "channel == 'web' || amount < 100.0",
    ),
  })
  .map(
    ({ aggregations, where }): ProjectSource => ({
      entities: { customer: { key: 'customerId' } },
      streams: { payments: { keys: { customer: 'customerId' }, time: 'ts', id: 'paymentId', schema } },
      tables: {
        merchants: {
          key: 'merchantId',
          validFrom: 'updatedAt',
          schema: {
            type: 'object',
            properties: {
              merchantId: { type: 'string' },
              category: { type: 'string' },
              updatedAt: { type: 'integer' },
            },
          },
        },
      },
      features: {
        g: {
          stream: 'payments',
          entity: 'customer',
          lookups: { merchant: { table: 'merchants', key: 'merchantId' } },
          ...(where ? { where } : {}),
          aggregations: Object.fromEntries(aggregations.map((a, i) => [`f${i}`, a])),
        },
      },
      views: { v: { entity: 'customer', features: ['g.*'] } },
    }),
  );

// Squares of |x| < 1e-150 underflow in IEEE doubles, where no double variance is meaningful
// (docs/aggregations.md, "Numeric range"): generated magnitudes stay above it, or are exactly 0.
const normal = (x: number) => (Math.abs(x) < 1e-150 ? 0 : x);
const amountArb = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -1000, max: 100_000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map(normal),
  fc.constant(123.456), // repeated values: variance near zero
  fc.constant(1e9 + 0.5),
);

export const eventArb = fc.record({
  customer: fc.constantFrom('c1', 'c2', 7),
  merchant: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
  tick: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 40, max: 46 })),
  amount: amountArb,
  lat: fc.oneof(fc.constant(null), fc.double({ min: -90, max: 90, noNaN: true }).map(normal)),
  lon: fc.oneof(fc.constant(null), fc.double({ min: -180, max: 180, noNaN: true }).map(normal)),
  channel: fc.constantFrom(null, 'web', 'pos'),
  device: fc.oneof(
    fc.constant(null),
    fc.integer({ min: 0, max: 39 }).map((d) => `d${d}`),
  ),
  duplicateOf: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
});

export const tableRowArb = fc.record({
  merchant: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
  tick: fc.integer({ min: -10, max: 120 }),
  category: fc.constantFrom('food', 'test', 'travel'),
});

type GeneratedEvent = typeof eventArb extends fc.Arbitrary<infer E> ? E : never;
type GeneratedRow = typeof tableRowArb extends fc.Arbitrary<infer R> ? R : never;

/** The payment fields of the i-th generated event: a duplicate re-uses an earlier id with different content. */
export function paymentFields(e: GeneratedEvent, i: number): Record<string, unknown> {
  return {
    paymentId: e.duplicateOf !== null && i > 0 ? `p${e.duplicateOf % i}` : `p${i}`,
    customerId: e.customer,
    merchantId: e.merchant,
    ts: BASE + e.tick * STEP,
    amount: e.amount,
    lat: e.lat,
    lon: e.lon,
    channel: e.channel,
    device: e.device,
  };
}

/** Generated events as the reference sees them, arriving in array order. */
export function paymentArrivals(events: readonly GeneratedEvent[]): ReferenceEvent[] {
  return events.map((e, i) => ({
    stream: 'payments',
    seq: i,
    time: BASE + e.tick * STEP,
    fields: paymentFields(e, i),
  }));
}

/** Generated merchant rows, valid from their tick. */
export function merchantRows(rows: readonly GeneratedRow[]): ReferenceTableRow[] {
  return rows.map((r, i) => ({
    table: 'merchants',
    seq: i,
    validFrom: BASE + r.tick * STEP,
    row: { merchantId: r.merchant, category: r.category, updatedAt: BASE + r.tick * STEP },
  }));
}
