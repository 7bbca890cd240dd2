/** Directed cases of the as-of read that random tests reach only by luck. */
import { describe, expect, it } from 'vitest';
import type { AggregationSource } from '../../src/definitions/source.js';
import { Core } from '../../src/engine/core/core.js';
import { RELATIVE_STANDARD_ERROR } from '../../src/engine/core/operators/hyperloglog.js';
import { oneGroupPlan } from '../fixtures/one-group.js';

const MINUTE = 60_000;

function coreWith(aggregations: Record<string, AggregationSource>): Core {
  return new Core(oneGroupPlan(aggregations));
}

let seq = 0;
const pay = (core: Core, time: number, amount: number, merchantId = 'm') =>
  core.addEvent('payments', { time, seq: seq++, fields: { customerId: 'c', ts: time, amount, merchantId } });

describe('as-of reads', () => {
  it('exclude the event at exactly t, and include it from t + 1 ms', () => {
    const core = coreWith({ n: { fn: 'count', window: '10m' }, s: { fn: 'sum', field: 'amount' } });
    pay(core, 1_000, 5);
    expect(core.read('v', { customer: 'c' }, 1_000)).toEqual({ n: 0, s: 0 });
    expect(core.read('v', { customer: 'c' }, 1_001)).toEqual({ n: 1, s: 5 });
    expect(core.read('v', { customer: 'c' }, 1_000 + 10 * MINUTE)).toEqual({ n: 1, s: 5 }); // [t - w, t) holds 1000
    expect(core.read('v', { customer: 'c' }, 1_001 + 10 * MINUTE)).toEqual({ n: 0, s: 5 });
  });

  it('apply a late event to every later read', () => {
    const core = coreWith({ last: { fn: 'last', field: 'amount' }, n: { fn: 'count', window: '1h' } });
    pay(core, 10 * MINUTE, 1);
    pay(core, 20 * MINUTE, 2);
    expect(core.read('v', { customer: 'c' }, 16 * MINUTE)).toEqual({ last: 1, n: 1 });
    pay(core, 15 * MINUTE, 3); // arrives late
    expect(core.read('v', { customer: 'c' }, 16 * MINUTE)).toEqual({ last: 3, n: 2 });
    expect(core.read('v', { customer: 'c' }, 30 * MINUTE)).toEqual({ last: 2, n: 3 });
  });

  it('cover [floor(t / r) * r - w, t) with a bucketed window', () => {
    const core = coreWith({ n: { fn: 'count', window: '10m', bucket: '1m' } });
    for (const m of [0, 1, 2, 12]) pay(core, m * MINUTE + 30_000, 1);
    // t = 12m45s: bucket end 12m, window [2m, 12m45s): the events at 2m30s and 12m30s
    expect(core.read('v', { customer: 'c' }, 12 * MINUTE + 45_000)).toEqual({ n: 2 });
  });

  it('count approxCountDistinct exactly in a window of at most 256 events, at the latest event and before', () => {
    const core = coreWith({ d: { fn: 'approxCountDistinct', field: 'merchantId', window: '1h' } });
    // One new merchant a second, so that every window of the 1h holds distinct merchants only.
    for (let i = 0; i < 3600; i++) pay(core, i * 1000, 1, `m${i}`);
    for (const [t, events] of [
      [255_000, 255], // from the start: 255 events
      [3_600_000, 3600], // the latest: past the exact limit, a sketch estimate
      [255_000 + 3_600_000, 3600 - 255], // after the last event: a window of 3345 events
    ] as const) {
      const d = core.read('v', { customer: 'c' }, t).d as number;
      if (events < 256) expect(d).toBe(events);
      else expect(Math.abs(d - events)).toBeLessThanOrEqual(3 * RELATIVE_STANDARD_ERROR * events);
    }
    // A window of 255 events ending at the latest event.
    const late = coreWith({ d: { fn: 'approxCountDistinct', field: 'merchantId', window: '255s' } });
    for (let i = 0; i < 600; i++) pay(late, i * 1000, 1, `m${i}`);
    expect(late.read('v', { customer: 'c' }, 600_000).d).toBe(255);
    expect(late.read('v', { customer: 'c' }, 300_000).d).toBe(255);
  });

  it('keep approxCountDistinct exact-ish as new values arrive between reads near the latest event', () => {
    const core = coreWith({ d: { fn: 'approxCountDistinct', field: 'merchantId', window: '30d' } });
    for (let i = 0; i < 400; i++) pay(core, i * MINUTE, 1, `m${i % 30}`); // enough events for the sliding sketch
    const t1 = 400 * MINUTE;
    expect(core.read('v', { customer: 'c' }, t1).d).toBe(30);
    for (let i = 0; i < 200; i++) pay(core, t1 - 30_000 + i, 1, `new${i}`);
    const d = core.read('v', { customer: 'c' }, t1 + 1).d as number;
    expect(Math.abs(d - 230)).toBeLessThanOrEqual(3 * RELATIVE_STANDARD_ERROR * 230);
  });
});

describe('missing and wrong-typed fields', () => {
  it('are nulls, never NaN, in every aggregation', () => {
    const core = coreWith({
      s: { fn: 'sum', field: 'amount' },
      m: { fn: 'mean', field: 'amount' },
      sd: { fn: 'stddev', field: 'amount' },
      l: { fn: 'last', field: 'amount' },
      d: { fn: 'countDistinct', field: 'merchantId' },
    });
    core.addEvent('payments', { time: 1, seq: seq++, fields: { customerId: 'c', ts: 1 } }); // no amount, no merchant
    core.addEvent('payments', { time: 2, seq: seq++, fields: { customerId: 'c', ts: 2, amount: '12' } }); // a string
    expect(core.read('v', { customer: 'c' }, 10)).toEqual({ s: 0, m: null, sd: null, l: null, d: 0 });
    pay(core, 3, 4, 'x');
    expect(core.read('v', { customer: 'c' }, 10)).toEqual({ s: 4, m: 4, sd: 0, l: 4, d: 1 });
  });
});

describe('long timelines', () => {
  it('read the same after moving to a chunk of their own, with other entities growing alongside', () => {
    const core = coreWith({
      n: { fn: 'count' },
      s: { fn: 'sum', field: 'amount' },
      d: { fn: 'countDistinct', field: 'merchantId' },
      last: { fn: 'last', field: 'amount' },
    });
    const events = 300_000; // more than a shared chunk holds
    for (let i = 0; i < events; i++) {
      core.addEvent('payments', {
        time: i,
        seq: seq++,
        fields: { customerId: 'big', ts: i, amount: i % 7, merchantId: `m${i % 1000}` },
      });
      if (i % 100 === 0) pay(core, i, 1); // customer `c` grows too
    }
    const sum = Array.from({ length: events }, (_, i) => i % 7).reduce((a, b) => a + b, 0);
    expect(core.read('v', { customer: 'big' }, events)).toEqual({
      n: events,
      s: sum,
      d: 1000,
      last: (events - 1) % 7,
    });
    expect(core.read('v', { customer: 'c' }, events)).toEqual({ n: 3000, s: 3000, d: 1, last: 1 });
  });
});

describe('entity numbers', () => {
  it("hold each entity apart past the entity table's first growth (1,024 entities)", () => {
    const core = coreWith({ n: { fn: 'count' }, s: { fn: 'sum', field: 'amount' } });
    const customers = 5000;
    for (let i = 0; i < 2 * customers; i++)
      core.addEvent('payments', {
        time: i,
        seq: seq++,
        fields: { customerId: `c${i % customers}`, ts: i, amount: i },
      });
    expect(core.groups.get('g')!.entityCount).toBe(customers);
    for (const c of [0, 1023, 1024, 2048, 4999])
      expect(core.read('v', { customer: `c${c}` }, 2 * customers)).toEqual({ n: 2, s: 2 * c + customers });
  });

  it('are reused after an entity is forgotten, with nothing of the old entity left (its sketches, presence list)', () => {
    const aggregations = {
      n: { fn: 'count' },
      d: { fn: 'approxCountDistinct', field: 'merchantId', window: '30d' },
      last: { fn: 'last', field: 'amount' },
    } as const;
    const core = coreWith(aggregations);
    const group = core.groups.get('g')!;
    // `c`: a null amount (a presence list) and enough merchants for a sliding sketch once read.
    for (let i = 0; i < 2000; i++) pay(core, i, i % 5, `m${i % 1000}`);
    core.addEvent('payments', {
      time: 2000,
      seq: seq++,
      fields: { customerId: 'c', ts: 2000, amount: null },
    });
    const old = core.read('v', { customer: 'c' }, 3000);
    expect(old).toMatchObject({ n: 2001, last: 4 });
    expect(old.d).toBeGreaterThan(900);
    group.forget('c');
    expect(group.entityCount).toBe(0);
    // `next` takes the freed entity number; it reads as on a core that never saw `c`.
    const fresh = coreWith(aggregations);
    for (const target of [core, fresh])
      for (let i = 0; i < 1500; i++)
        target.addEvent('payments', {
          time: 5000 + i,
          seq: seq++,
          fields: { customerId: 'next', ts: 5000 + i, amount: i % 3, merchantId: `x${i % 2}` },
        });
    for (const t of [5001, 5700, 7000])
      expect(core.read('v', { customer: 'next' }, t)).toEqual(fresh.read('v', { customer: 'next' }, t));
    expect(core.read('v', { customer: 'next' }, 7000)).toEqual({ n: 1500, d: 2, last: 2 });
  });
});
