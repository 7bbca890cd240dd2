/** The column-batch path (offline sweep) gives the same reads as adding events one by one (online). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Core } from '../../src/engine/core/core.js';
import { oneGroupPlan } from '../fixtures/one-group.js';

const plan = (where?: string) =>
  oneGroupPlan(
    {
      n: { fn: 'count', window: '1m' },
      s: { fn: 'sum', field: 'amount', window: '5m' },
      sd: { fn: 'stddev', field: 'amount' },
      last2: { fn: 'lastK', field: 'merchantId', k: 2 },
      d: { fn: 'countDistinct', field: 'merchantId', window: '5m' },
      a: { fn: 'approxCountDistinct', field: 'merchantId' },
    },
    where,
  );

const rowArb = fc.record({
  tick: fc.integer({ min: 0, max: 2000 }),
  amount: fc.oneof(fc.constant(null), fc.integer({ min: -50, max: 1000 })),
  merchant: fc.oneof(
    fc.constant(null),
    fc.integer({ min: 0, max: 60 }).map((m) => `m${m}`),
  ),
});

describe('column batches', () => {
  it.each([
    [undefined, false],
    [undefined, true],
    ['amount > 0.0', false],
  ])('read the same as one-by-one adds (where: %s, arriving in time order: %s)', (where, inOrder) => {
    fc.assert(
      fc.property(
        fc.array(rowArb, { minLength: 1, maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 2100 }), { minLength: 1, maxLength: 5 }),
        (rows, cuts, reads) => {
          if (inOrder) rows.sort((a, b) => a.tick - b.tick);
          const events = rows.map((r, i) => ({
            time: r.tick * 1000,
            seq: i,
            fields: { customerId: 'c', ts: r.tick * 1000, amount: r.amount, merchantId: r.merchant },
          }));
          const single = new Core(plan(where));
          for (const e of events) single.addEvent('payments', e);
          // Batches in arrival order, cut at random places: late rows make some batches unordered.
          const batched = new Core(plan(where));
          const bounds = [0, ...cuts.map((c) => c % events.length).sort((a, b) => a - b), events.length];
          for (let b = 0; b + 1 < bounds.length; b++) {
            const part = events.slice(bounds[b], bounds[b + 1]);
            if (!part.length) continue;
            batched.groups.get('g')!.addEntityColumns('c', {
              length: part.length,
              times: Float64Array.from(part.map((e) => e.time)),
              seqs: Float64Array.from(part.map((e) => e.seq)),
              fields: {
                amount: Float64Array.from(part.map((e) => e.fields.amount ?? Number.NaN)),
                merchantId: part.map((e) => e.fields.merchantId),
              },
            });
          }
          for (const t of reads)
            expect(batched.read('v', { customer: 'c' }, t * 1000)).toEqual(
              single.read('v', { customer: 'c' }, t * 1000),
            );
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
