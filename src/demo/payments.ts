/**
 * A realistic payments stream for the fraud demo: customers with a home location, merchants with categories
 * and locations, ordinary spending, and a few fraud rings (stolen cards used in bursts at ring merchants far
 * from home, for larger amounts). Deterministic for a seed. Some payments arrive late, some twice.
 */
import { seededRandom } from './random.js';

export const DEMO_DEFINITIONS = `
entities:
  customer: { key: customerId, description: "A card holder" }
  merchant: { key: merchantId }

streams:
  payments:
    owner: payments-team
    keys: { customer: customerId, merchant: merchantId }
    time: ts
    id: paymentId
    schema:
      type: object
      required: [paymentId, customerId, merchantId, ts, amount]
      properties:
        paymentId: { type: string }
        customerId: { type: string }
        merchantId: { type: string }
        ts: { type: [integer, string] }
        amount: { type: number, description: "in cents" }
        lat: { type: [number, "null"] }
        lon: { type: [number, "null"] }

tables:
  merchants:
    key: merchantId
    validFrom: updatedAt
    schema: { type: object, properties: { merchantId: { type: string }, category: { type: string }, updatedAt: { type: [integer, string] } } }

features:
  customer_payments:
    stream: payments
    entity: customer
    lookups:
      merchant: { table: merchants, key: merchantId }
    where: "amount > 0.0 && merchant.category != 'test'"
    aggregations:
      count_10m:       { fn: count, window: 10m }
      count_1d:        { fn: count, window: 1d }
      amount_sum_7d:   { fn: sum, field: amount, window: 7d }
      amount_mean_30d: { fn: mean, field: amount, window: 30d }
      amount_std_30d:  { fn: stddev, field: amount, window: 30d }
      amount_last5:    { fn: lastK, field: amount, k: 5 }
      last_location:   { fn: last, fields: [lat, lon] }
      merchants_1d:    { fn: countDistinct, field: merchantId, window: 1d }
      categories_7d:   { fn: countDistinct, field: merchant.category, window: 7d }
      amount_p95_30d:  { fn: approxQuantile, field: amount, q: 0.95, window: 30d }
      since_last_ms:   { fn: timeSinceLast }
  merchant_payments:
    stream: payments
    entity: merchant
    aggregations:
      count_1h: { fn: count, window: 1h }
      customers_1d: { fn: approxCountDistinct, field: customerId, window: 1d }

views:
  fraud:
    entities: [customer, merchant]
    features:
      - customer_payments.*
      - merchant_payments.count_1h as merchant_count_1h
      - merchant_payments.customers_1d as merchant_customers_1d
    request:
      amount: double
      lat: double
      lon: double
    derived:
      distance_km: "haversine_km(request.lat, request.lon, last_location.lat, last_location.lon)"
      amount_z: "zscore(request.amount, amount_mean_30d, amount_std_30d)"
    horizon: 1d
`;

export interface DemoPayment {
  readonly paymentId: string;
  readonly customerId: string;
  readonly merchantId: string;
  readonly ts: number;
  readonly amount: number;
  readonly lat: number | null;
  readonly lon: number | null;
  /** Label: the payment was fraud (known later, from chargebacks). */
  readonly fraud: boolean;
  /** When the platform received it: after ts for a late payment. */
  readonly arrival: number;
}

export interface DemoMerchant {
  readonly merchantId: string;
  readonly category: string;
  readonly updatedAt: number;
  readonly lat: number;
  readonly lon: number;
}

export interface DemoData {
  readonly merchants: readonly DemoMerchant[];
  /** In arrival order, duplicates included. */
  readonly payments: readonly DemoPayment[];
  readonly start: number;
  readonly end: number;
}

const CATEGORIES = ['grocery', 'fuel', 'restaurant', 'electronics', 'travel', 'fashion', 'pharmacy', 'test'];
const CITIES = [
  [48.8566, 2.3522],
  [51.5074, -0.1278],
  [52.52, 13.405],
  [40.4168, -3.7038],
  [41.9028, 12.4964],
  [45.4642, 9.19],
];

export interface DemoOptions {
  readonly customers: number;
  readonly merchants: number;
  readonly days: number;
  readonly start: number;
  readonly seed: number;
}

export function generatePayments(options: DemoOptions): DemoData {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const jitter = () => (random() - 0.5) * 0.2;
  const merchants: DemoMerchant[] = Array.from({ length: options.merchants }, (_, i) => {
    const [lat, lon] = pick(CITIES);
    return {
      merchantId: `m${i}`,
      category: CATEGORIES[i % CATEGORIES.length]!,
      updatedAt: options.start - 86_400_000,
      lat: lat! + jitter(),
      lon: lon! + jitter(),
    };
  });
  const end = options.start + options.days * 86_400_000;
  const payments: DemoPayment[] = [];
  let next = 0;
  const add = (customerId: string, merchant: DemoMerchant, ts: number, amount: number, fraud: boolean) => {
    const late = random() < 0.02 ? Math.floor(random() * 600_000) : 0; // 2% arrive up to 10 minutes late
    const payment = {
      paymentId: `pay-${next++}`,
      customerId,
      merchantId: merchant.merchantId,
      ts,
      amount: Math.round(amount),
      lat: random() < 0.05 ? null : merchant.lat + jitter() / 10,
      lon: random() < 0.05 ? null : merchant.lon + jitter() / 10,
      fraud,
      arrival: ts + 200 + late,
    };
    payments.push(payment);
    if (random() < 0.005) payments.push({ ...payment, arrival: payment.arrival + 1_000 }); // a retried send
  };
  // Ordinary customers shop near home, a few times a day.
  for (let c = 0; c < options.customers; c++) {
    const [homeLat, homeLon] = pick(CITIES);
    const near = merchants.filter(
      (m) => Math.abs(m.lat - homeLat!) < 0.5 && Math.abs(m.lon - homeLon!) < 0.5,
    );
    const typical = 2_000 + random() * 8_000;
    const perDay = 0.5 + random() * 3;
    for (
      let t = options.start + random() * 86_400_000;
      t < end;
      t += (86_400_000 / perDay) * (0.2 + random() * 1.6)
    ) {
      add(
        `c${c}`,
        pick(near.length ? near : merchants),
        Math.floor(t),
        typical * (0.3 + random() * 1.4),
        false,
      );
    }
  }
  // Fraud rings: a handful of stolen cards used in a burst of minutes at the ring's merchants, far away.
  const rings = Math.max(1, Math.floor(options.customers / 400));
  for (let r = 0; r < rings; r++) {
    const ringMerchants = Array.from({ length: 3 }, () => pick(merchants));
    const burst = options.start + (0.3 + random() * 0.65) * (end - options.start);
    for (let k = 0; k < 6; k++) {
      const victim = `c${Math.floor(random() * options.customers)}`;
      for (let p = 0; p < 4 + Math.floor(random() * 5); p++) {
        add(
          victim,
          pick(ringMerchants),
          Math.floor(burst + k * 120_000 + p * 30_000 * random()),
          20_000 + random() * 60_000,
          true,
        );
      }
    }
  }
  payments.sort((a, b) => a.arrival - b.arrival);
  return { merchants, payments, start: options.start, end };
}
