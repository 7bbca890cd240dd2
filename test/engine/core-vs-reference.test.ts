/**
 * The core against the reference on random definitions and random streams (out of order, duplicated ids,
 * equal times, nulls), read at random times between arrivals. TRIBUTARY_PROPERTY_RUNS sets the number of
 * cases (10^4 in CI; `npm run test:deep` runs 10^6).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDefinitions } from '../../src/definitions/compile.js';
import type { AggregationFn, Plan } from '../../src/definitions/plan.js';
import type { ProjectSource } from '../../src/definitions/source.js';
import { Core } from '../../src/engine/core/core.js';
import { Deduplicator } from '../../src/engine/core/dedupe.js';
import {
  BASE,
  eventArb,
  merchantRows,
  paymentArrivals,
  projectArb,
  STEP,
  tableRowArb,
} from '../reference/arbitraries.js';
import { disagreement } from '../reference/compare.js';
import { referenceVector } from '../reference/reference.js';

const RUNS = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 10_000);
const caseArb = fc.record({
  project: projectArb,
  events: fc.array(eventArb, { maxLength: 60, size: 'max' }),
  rows: fc.array(tableRowArb, { maxLength: 8 }),
  reads: fc.array(
    fc.record({
      after: fc.nat(),
      customer: fc.constantFrom('c1', 'c2', '7', 'nobody'),
      tick: fc.integer({ min: -2, max: 125 }),
      offset: fc.constantFrom(0, 0, 1, -1, 250),
    }),
    { minLength: 1, maxLength: 8, size: 'max' },
  ),
});

const LONG_RUNS = Math.max(20, Math.round(RUNS / 50));
const longEventArb = eventArb.map((e) => ({ ...e, customer: 'c1' as const }));
const longCaseArb = fc.record({
  project: projectArb,
  events: fc
    .array(
      fc.oneof(
        { weight: 9, arbitrary: longEventArb },
        { weight: 1, arbitrary: longEventArb.map((e) => ({ ...e, tick: e.tick % 8 })) }, // late, into dense tiles
      ),
      { minLength: 300, maxLength: 1500 },
    )
    .map((events) =>
      events.map((e, i) => ({
        ...e,
        tick: e.tick < 8 ? e.tick + Math.floor(i / 3) : Math.floor(i / 2) + (e.tick % 5),
      })),
    ),
  rows: fc.array(tableRowArb, { maxLength: 8 }),
  reads: fc.array(
    fc.record({
      after: fc.nat(),
      customer: fc.constant('c1'),
      tick: fc.integer({ min: 0, max: 800 }),
      offset: fc.constantFrom(0, 1, 250),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

function compile(project: ProjectSource): Plan {
  const result = compileDefinitions(project);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.plan;
}

type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

/** Applies the case's arrivals in order, reading between them, and compares every read with the reference. */
function checkCase({ project, events, rows, reads }: Case): void {
  const plan = compile(project);
  const core = new Core(plan);
  const tableRows = merchantRows(rows);

  for (const r of tableRows) core.addTableRow(r.table, r.validFrom, r.seq, r.row);
  const arrivals = paymentArrivals(events);

  const dedupe = new Deduplicator();
  const orderedReads = [...reads].sort(
    (a, b) => (a.after % (arrivals.length + 1)) - (b.after % (arrivals.length + 1)),
  );
  let applied = 0;
  for (const read of orderedReads) {
    const upTo = read.after % (arrivals.length + 1);
    for (; applied < upTo; applied++) {
      const e = arrivals[applied]!;
      if (dedupe.accept(String(e.fields.paymentId), e.seq)) core.addEvent(e.stream, e);
    }
    const t = BASE + read.tick * STEP + read.offset;
    const actual = core.read('v', { customer: read.customer }, t);
    const expected = referenceVector(
      plan,
      'v',
      arrivals.slice(0, applied),
      tableRows,
      { customer: read.customer },
      t,
    );
    for (const [name, value] of Object.entries(expected)) {
      const fn = plan.features.g!.aggregations.find((a) => a.name === name)?.fn as AggregationFn;
      const problem = disagreement(fn, actual[name], value);
      if (problem) {
        const agg = plan.features.g!.aggregations.find((a) => a.name === name);
        throw new Error(`${name} ${JSON.stringify(agg)} at t=${t} for ${read.customer}: ${problem}`);
      }
    }
  }
}

describe('core agrees with the reference implementation of semantics.md', () => {
  it(`on ${RUNS} random definitions, streams and reads`, () => {
    fc.assert(fc.property(caseArb, checkCase), {
      numRuns: RUNS,
      seed: Number(process.env.TRIBUTARY_PROPERTY_SEED ?? 20261124),
    });
  });

  // Long histories of one entity reach the tiles (> 64 events in a window), the distinct index and the sliding
  // HyperLogLog (> 256 events in a window), which short streams never touch.
  it(`on ${LONG_RUNS} long histories of one entity`, () => {
    fc.assert(fc.property(longCaseArb, checkCase), { numRuns: LONG_RUNS, seed: 7, endOnFailure: true });
  });

  it('serves the empty-window values to an entity never seen', () => {
    const plan = compile(fc.sample(projectArb, { numRuns: 1, seed: 3 })[0]!);
    const vector = new Core(plan).read('v', { customer: 'new-customer' }, BASE);
    for (const agg of plan.features.g!.aggregations) {
      const expected = ['count', 'sum', 'countDistinct', 'approxCountDistinct'].includes(agg.fn)
        ? 0
        : agg.fn.endsWith('K')
          ? []
          : null;
      expect(vector[agg.name]).toEqual(expected);
    }
  });
});
