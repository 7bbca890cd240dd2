/** The `fraud20` feature group of the benchmarks (issue: evaluation core): 20 features over payments. */
export const FRAUD20_YAML = `
entities:
  customer: { key: customerId }
streams:
  payments:
    keys: { customer: customerId }
    time: ts
    id: paymentId
    schema:
      type: object
      required: [paymentId, customerId, merchantId, ts, amount]
      properties:
        paymentId: { type: string }
        customerId: { type: string }
        merchantId: { type: string }
        ts: { type: integer }
        amount: { type: number }
features:
  fraud20:
    stream: payments
    entity: customer
    aggregations:
      count_10m: { fn: count, window: 10m }
      count_1h: { fn: count, window: 1h }
      count_1d: { fn: count, window: 1d }
      count_7d: { fn: count, window: 7d }
      count_30d: { fn: count, window: 30d }
      sum_1h: { fn: sum, field: amount, window: 1h }
      sum_1d: { fn: sum, field: amount, window: 1d }
      sum_7d: { fn: sum, field: amount, window: 7d }
      sum_30d: { fn: sum, field: amount, window: 30d }
      mean_7d: { fn: mean, field: amount, window: 7d }
      mean_30d: { fn: mean, field: amount, window: 30d }
      min_1d: { fn: min, field: amount, window: 1d }
      max_1d: { fn: max, field: amount, window: 1d }
      stddev_30d: { fn: stddev, field: amount, window: 30d }
      last_amount: { fn: last, field: amount }
      last5_amounts: { fn: lastK, field: amount, k: 5 }
      merchants_1d: { fn: countDistinct, field: merchantId, window: 1d }
      merchants_7d: { fn: countDistinct, field: merchantId, window: 7d }
      time_since_last: { fn: timeSinceLast }
      merchants_approx_30d: { fn: approxCountDistinct, field: merchantId, window: 30d }
views:
  fraud20:
    entity: customer
    features: [fraud20.*]
`;

export { seededRandom } from '../src/demo/random.js';
