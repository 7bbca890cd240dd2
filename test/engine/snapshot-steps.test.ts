/**
 * Snapshots taken in steps while events go on being applied (what a server's checkpoint does): the snapshot must be
 * of the state when its first part ended, and the live state must not be disturbed by the copy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Core, type CoreSnapshot } from '../../src/engine/core/core.js';
import { keyFromChars } from '../../src/engine/core/key-index.js';
import { oneGroupPlan } from '../fixtures/one-group.js';

const RUNS = Math.max(100, Math.round(Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 10_000) / 20));
const MINUTE = 60_000;

// Retention (a 1-minute horizon) makes entities evict, move to other regions and keep prefixes as they go.
const plan = oneGroupPlan(
  {
    n5m: { fn: 'count', window: '5m' },
    n: { fn: 'count' },
    total: { fn: 'sum', field: 'amount' },
    first: { fn: 'first', field: 'amount' },
    last2: { fn: 'lastK', field: 'amount', k: 2 },
    merchants: { fn: 'countDistinct', field: 'merchantId', window: '5m' },
  },
  { horizon: '1m' },
);

const eventArb = fc.record({
  customer: fc.nat(11),
  // Mostly forward in time; one in eight late by up to an hour.
  step: fc.integer({ min: 0, max: 4 * MINUTE }),
  late: fc.oneof(
    { weight: 7, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 * MINUTE }) },
  ),
  amount: fc.integer({ min: -50, max: 500 }),
  merchant: fc.constantFrom('m1', 'm2', 'm3', 'm4'),
  // One in twenty drops the customer instead (the offline sweep's forget): its number goes to the next new one.
  forget: fc.oneof(
    { weight: 19, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const caseArb = fc.record({
  before: fc.array(eventArb, { minLength: 1, maxLength: 80 }),
  during: fc.array(eventArb, { maxLength: 80 }),
  // How many events are applied between two steps of the copy.
  perStep: fc.integer({ min: 1, max: 6 }),
  entitiesPerStep: fc.integer({ min: 1, max: 5 }),
});

type Event = typeof eventArb extends fc.Arbitrary<infer E> ? E : never;

function applier(core: Core) {
  let time = 0;
  let seq = 0;
  return (e: Event) => {
    if (e.forget) {
      core.groups.get('g')!.forget(`c${e.customer}`);
      return;
    }
    time += e.step;
    const ts = time - e.late;
    core.addEvent('payments', {
      time: ts,
      seq: seq++,
      fields: { customerId: `c${e.customer}`, ts, amount: e.amount, merchantId: e.merchant },
    });
  };
}

/** Typed arrays (columns, prefixes' rows) as plain arrays. */
const plainData = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (_, v) => (ArrayBuffer.isView(v) ? [...(v as Float64Array)] : v)));

/**
 * A snapshot as plain data with each group's entities by key: the order of entities in a snapshot is the order
 * they were copied, which applies during the copy change, and restore does not depend on it.
 */
function plain(snapshot: CoreSnapshot) {
  const groups: Record<string, unknown> = {};
  for (const [name, group] of Object.entries(snapshot.groups)) {
    const prefixes = new Map(group.evicted?.entities.map((k, i) => [k, group.evicted!.prefixes[i]]));
    const keyStarts = [0];
    for (const length of group.keyLengths) keyStarts.push(keyStarts.at(-1)! + length);
    const entities: Record<string, unknown> = {};
    let at = 0;
    group.counts.forEach((count, k) => {
      const keyIndex = group.keyOf?.[k] ?? k;
      const key = keyFromChars(group.keyChars, keyStarts[keyIndex]!, group.keyLengths[keyIndex]!);
      expect(entities[key]).toBeUndefined();
      const rows = (column: Float64Array | Int32Array) => column.subarray(at, at + count);
      entities[key] = {
        times: rows(group.times),
        seqs: rows(group.seqs),
        numeric: group.numeric.map(rows),
        categorical: group.categorical.map(rows),
        prefix: prefixes.get(k) ?? null,
      };
      at += count;
    });
    expect(at).toBe(group.times.length);
    const { dictionaries, watermark, readableFrom } = group;
    groups[name] = { dictionaries, watermark, readableFrom, entities };
  }
  return plainData({ groups, tables: snapshot.tables, planHash: snapshot.planHash });
}

describe('snapshots in steps', () => {
  it(`are of the state when their first part ended, whatever is applied during the copy (${RUNS} cases)`, () => {
    let copiedBeforeWrite = 0;
    fc.assert(
      fc.property(caseArb, ({ before, during, perStep, entitiesPerStep }) => {
        const quiet = new Core(plan, { retention: true });
        const busy = new Core(plan, { retention: true });
        const applyQuiet = applier(quiet);
        const applyBusy = applier(busy);
        for (const e of before) {
          applyQuiet(e);
          applyBusy(e);
        }
        // With evictIdle, the snapshot is of the state after evictIdle() at the end of its first part.
        quiet.evictIdle();
        const expected = plain(quiet.snapshot());

        const steps = busy.snapshotSteps(entitiesPerStep, true);
        let step = steps.next();
        while (!step.done && step.value) step = steps.next();
        let next = 0;
        while (!step.done) {
          for (let i = 0; i < perStep && next < during.length; i++) applyBusy(during[next++]!);
          step = steps.next();
        }
        if (next > 0) copiedBeforeWrite++;
        expect(plain(step.value)).toEqual(expected);

        // The live state went on as if no snapshot had been taken.
        for (; next < during.length; next++) applyBusy(during[next]!);
        for (const e of during) applyQuiet(e);
        expect(plain(busy.snapshot())).toEqual(plain(quiet.snapshot()));
      }),
      { numRuns: RUNS, seed: 20261205 },
    );
    // The generator must apply events during copies, not just beside them.
    expect(copiedBeforeWrite).toBeGreaterThan(RUNS / 2);
  });

  it('keep their keys when the key index squeezes out dropped keys during the copy', () => {
    // 1,024 customers fill the key index's entry columns; dropping 600 makes most entries holes, and the next new
    // key squeezes them out, moving the entries of the keys still to be packed.
    const quiet = new Core(plan);
    const busy = new Core(plan);
    for (const core of [quiet, busy]) {
      for (let c = 0; c < 1_024; c++)
        core.addEvent('payments', {
          time: c,
          seq: c,
          fields: { customerId: `c${c}`, ts: c, amount: c, merchantId: 'm1' },
        });
      for (let c = 0; c < 600; c++) core.groups.get('g')!.forget(`c${c}`);
    }
    const expected = plain(quiet.snapshot());
    const steps = busy.snapshotSteps(1, false);
    let step = steps.next();
    while (!step.done && step.value) step = steps.next();
    busy.addEvent('payments', {
      time: 5_000,
      seq: 5_000,
      fields: { customerId: 'new', ts: 5_000, amount: 1, merchantId: 'm2' },
    });
    while (!step.done) step = steps.next();
    expect(plain(step.value)).toEqual(expected);
  });
});
