/**
 * The offline engine against the reference on random definitions, streams (late, duplicate and tied events,
 * nulls, lookups, filters) and spines, in every spine and output format: the event-time view from event files,
 * and the as-served view from a log filled through the intake with known arrival times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { compileDefinitions } from '../../src/definitions/compile.js';
import type { AggregationFn, Plan } from '../../src/definitions/plan.js';
import type { ProjectSource } from '../../src/definitions/source.js';
import { backfill } from '../../src/engine/offline/backfill.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
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
import { type ReferenceEvent, type ReferenceTableRow, referenceVector } from '../reference/reference.js';
import { type Format, readTrainingSet, typedLike, writeRows } from './training-files.js';

const RUNS = Number(process.env.TRIBUTARY_BACKFILL_RUNS ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'tributary-backfill-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const formatArb = fc.constantFrom<Format>('ndjson', 'csv', 'parquet');
const caseArb = fc.record({
  project: projectArb,
  events: fc.array(eventArb, { maxLength: 60, size: 'max' }),
  rows: fc.array(tableRowArb, { maxLength: 8 }),
  spine: fc.array(
    fc.record({
      customer: fc.constantFrom<string | number>('c1', 'c2', '7', 7, 'nobody'),
      tick: fc.integer({ min: -2, max: 125 }),
      offset: fc.constantFrom(0, 0, 1, -1, 250),
      label: fc.boolean(),
    }),
    { minLength: 1, maxLength: 10 },
  ),
  spineFormat: formatArb,
  outFormat: formatArb,
});
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function compile(project: ProjectSource): Plan {
  const result = compileDefinitions(project);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.plan;
}

/** Compares each output row with the reference over the events `visible(t)` returns. */
async function check(
  plan: Plan,
  c: Case,
  out: string,
  tables: readonly ReferenceTableRow[],
  visible: (t: number) => readonly ReferenceEvent[],
): Promise<void> {
  const rows = await readTrainingSet(out);
  if (rows.length !== c.spine.length) throw new Error(`${rows.length} rows for a spine of ${c.spine.length}`);
  c.spine.forEach((s, r) => {
    const t = BASE + s.tick * STEP + s.offset;
    const row = rows[r]!;
    if (String(row.customerId) !== String(s.customer))
      throw new Error(`row ${r}: spine order lost: ${JSON.stringify(row)} for ${JSON.stringify(s)}`);
    const expected = referenceVector(plan, 'v', visible(t), tables, { customer: String(s.customer) }, t);
    for (const [name, value] of Object.entries(expected)) {
      const fn = plan.features.g!.aggregations.find((a) => a.name === name)?.fn as AggregationFn;
      const actual = c.outFormat === 'csv' ? typedLike(row[name], value.value) : row[name];
      const problem = disagreement(fn, actual, value);
      if (problem)
        throw new Error(
          `row ${r} ${name} ${JSON.stringify(plan.features.g!.aggregations.find((a) => a.name === name))} at t=${t}: ${problem}`,
        );
    }
  });
}

let counter = 0;
async function writeSpine(c: Case): Promise<string> {
  const spine = join(dir, `spine-${counter}.${c.spineFormat}`);
  await writeRows(
    spine,
    // A Parquet column has one type: keys there are text; NDJSON and CSV mix numbers and strings.
    c.spine.map((s) => ({
      customerId: c.spineFormat === 'parquet' ? String(s.customer) : s.customer,
      ts: BASE + s.tick * STEP + s.offset,
      label: s.label,
    })),
    c.spineFormat,
  );
  return spine;
}

describe('backfill agrees with the reference implementation of semantics.md', () => {
  it(`event-time view from files, on ${RUNS} random definitions, streams and spines`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        counter++;
        const plan = compile(c.project);
        const arrivals = paymentArrivals(c.events);
        const tables = merchantRows(c.rows);
        const events = join(dir, `events-${counter}.ndjson`);
        const merchants = join(dir, `merchants-${counter}.ndjson`);
        await writeRows(
          events,
          arrivals.map((a) => a.fields),
          'ndjson',
        );
        await writeRows(
          merchants,
          tables.map((t) => t.row),
          'ndjson',
        );
        const out = join(dir, `out-${counter}.${c.outFormat}`);
        await backfill({
          plan,
          view: 'v',
          spine: await writeSpine(c),
          out,
          history: { kind: 'files', files: { payments: [events], merchants: [merchants] } },
          workers: 0,
        });
        await check(plan, c, out, tables, () => arrivals);
      }),
      { numRuns: RUNS, seed: 11, endOnFailure: true },
    );
  }, 120_000);

  it(`as-served view from the log, on ${RUNS} random cases`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        counter++;
        const plan = compile(c.project);
        const arrivals = paymentArrivals(c.events);
        const tables = merchantRows(c.rows);
        // Event i arrives at BASE + i·STEP·2: late events (event time before arrival) are common, and a few are early.
        const arrivalTime = (i: number) => BASE + i * STEP * 2;
        const logDir = join(dir, `log-${counter}`);
        const log = await EmbeddedLog.open(logDir);
        let now = BASE - 10 * STEP;
        const intake = await Intake.open(plan, log, { now: () => now });
        try {
          await intake.ingest(
            'merchants',
            tables.map((t) => ({ value: t.row })),
          );
          for (const [i, a] of arrivals.entries()) {
            now = arrivalTime(i);
            await intake.ingest('payments', [{ value: a.fields }]);
          }
          const out = join(dir, `out-${counter}.${c.outFormat}`);
          await backfill({
            plan,
            view: 'v',
            spine: await writeSpine(c),
            out,
            history: { kind: 'log', log },
            asServed: true,
            workers: 0,
          });
          await check(plan, c, out, tables, (t) => arrivals.filter((_, i) => arrivalTime(i) <= t));
        } finally {
          await log.close();
        }
      }),
      { numRuns: RUNS, seed: 12, endOnFailure: true },
    );
  }, 120_000);
});
