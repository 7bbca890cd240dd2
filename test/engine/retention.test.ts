/**
 * Online retention against the reference: with a short view horizon, a core that evicts old events (keeping
 * running aggregates for all-history aggregations) must read, at every time the horizon allows, what the
 * reference computes over every event; and a checkpoint taken in the middle must carry its evicted prefixes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDefinitions } from '../../src/definitions/compile.js';
import type { AggregationFn, Plan } from '../../src/definitions/plan.js';
import type { ProjectSource } from '../../src/definitions/source.js';
import { Core } from '../../src/engine/core/core.js';
import { Deduplicator } from '../../src/engine/core/dedupe.js';
import { EvictedRangeError } from '../../src/engine/core/group-engine.js';
import { finish } from '../../src/util/steps.js';
import { oneGroupPlan } from '../fixtures/one-group.js';
import {
  eventArb,
  merchantRows,
  paymentArrivals,
  projectArb,
  STEP,
  tableRowArb,
} from '../reference/arbitraries.js';
import { disagreement } from '../reference/compare.js';
import { referenceVector } from '../reference/reference.js';

const RUNS = Math.max(200, Math.round(Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 10_000) / 5));
const HORIZON_MS = 1_000;

const caseArb = fc.record({
  project: projectArb.map(
    (p) => ({ ...p, views: { v: { ...p.views!.v!, horizon: '1s' } } }) as ProjectSource,
  ),
  events: fc
    .array(eventArb, { minLength: 20, maxLength: 120, size: 'max' })
    // Ten seconds apart, so that old events fall behind the longest window; one in ten late by up to ~20 minutes.
    .map((events) =>
      events.map((e, i) => ({
        ...e,
        tick: e.tick % 10 === 0 ? Math.max(0, i * 20 - e.tick * 20) : i * 20 + (e.tick % 7),
      })),
    ),
  rows: fc.array(tableRowArb, { maxLength: 8 }),
  reads: fc.array(
    fc.record({ after: fc.nat(), customer: fc.constantFrom('c1', 'c2', '7'), ahead: fc.nat(40) }),
    {
      minLength: 1,
      maxLength: 8,
    },
  ),
  checkpointAfter: fc.nat(),
});

function compile(project: ProjectSource): Plan {
  const result = compileDefinitions(project);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.plan;
}

let casesThatEvicted = 0;

type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function checkCase({ project, events, rows, reads, checkpointAfter }: Case): void {
  const plan = compile(project);
  let core = new Core(plan, { retention: true });
  const tableRows = merchantRows(rows);
  for (const r of tableRows) core.addTableRow(r.table, r.validFrom, r.seq, r.row);
  const arrivals = paymentArrivals(events);
  const dedupe = new Deduplicator();
  const accepted: typeof arrivals = [];
  const ordered = [...reads].sort((a, b) => (a.after % arrivals.length) - (b.after % arrivals.length));
  const checkpointAt = checkpointAfter % arrivals.length;
  let applied = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  let evicted = false;
  const apply = (upTo: number) => {
    for (; applied < upTo; applied++) {
      const e = arrivals[applied]!;
      if (!dedupe.accept(String(e.fields.paymentId), e.seq)) continue;
      core.addEvent(e.stream, e);
      accepted.push(e);
      if (e.time > watermark) watermark = e.time;
      if (applied === checkpointAt) {
        // Half the cases checkpoint as the online processor does: one entity per step, evicting as it copies.
        const snapshot = checkpointAfter % 2 ? finish(core.snapshotSteps(1, true)) : core.snapshot();
        evicted ||= (snapshot.groups.g?.evicted?.entities.length ?? 0) > 0;
        core = new Core(plan, { retention: true });
        core.restore(snapshot);
      }
    }
  };
  for (const read of ordered) {
    apply((read.after % arrivals.length) + 1);
    // The earliest time the horizon allows, or a little after it.
    const t = watermark - HORIZON_MS + read.ahead * (STEP / 4);
    const actual = core.read('v', { customer: read.customer }, t);
    const expected = referenceVector(plan, 'v', accepted, tableRows, { customer: read.customer }, t);
    for (const [name, value] of Object.entries(expected)) {
      const agg = plan.features.g!.aggregations.find((a) => a.name === name)!;
      const problem = disagreement(agg.fn as AggregationFn, actual[name], value);
      if (problem) throw new Error(`${name} ${JSON.stringify(agg)} at t=${t} (W=${watermark}): ${problem}`);
    }
  }
  core.evictIdle();
  evicted ||= (core.snapshot().groups.g?.evicted?.entities.length ?? 0) > 0;
  if (evicted) casesThatEvicted++;
}

describe('online retention', () => {
  it(`reads within the horizon what the reference computes over every event (${RUNS} cases)`, () => {
    casesThatEvicted = 0;
    fc.assert(fc.property(caseArb, checkCase), { numRuns: RUNS, seed: 20261124 });
    // The generator must make retention work, not just run beside it.
    expect(casesThatEvicted).toBeGreaterThan(RUNS / 4);
  });

  it('bounds the events held, folds late events older than the cutoff, and refuses reads before the horizon', () => {
    const plan = oneGroupPlan(
      {
        n1m: { fn: 'count', window: '1m' },
        n: { fn: 'count' },
        total: { fn: 'sum', field: 'amount' },
        first: { fn: 'first', field: 'amount' },
        last3: { fn: 'lastK', field: 'amount', k: 3 },
      },
      { horizon: '1m' },
    );
    const core = new Core(plan, { retention: true });
    const minute = 60_000;
    let seq = 0;
    const pay = (time: number, amount: number) =>
      core.addEvent('payments', { time, seq: seq++, fields: { customerId: 'c', ts: time, amount } });
    for (let m = 0; m < 600; m++) pay(m * minute, m);
    pay(5 * minute + 1, 1_000); // late by almost 10 hours: folded into the running aggregates
    const held = core.snapshot().groups.g!.counts[0]!;
    expect(held).toBeLessThan(10); // 2 minutes of window + horizon (+ slack), not 600
    const t = 600 * minute;
    const sum = (599 * 600) / 2 + 1_000;
    expect(core.read('v', { customer: 'c' }, t)).toEqual({
      n1m: 1,
      n: 601,
      total: sum,
      first: 0,
      last3: [599, 598, 597],
    });
    expect(() => core.read('v', { customer: 'c' }, t - 10 * minute)).toThrow(EvictedRangeError);
  });
});
