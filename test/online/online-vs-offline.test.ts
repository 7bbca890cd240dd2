/**
 * Online equals offline (semantics.md): random streams (late, duplicate and tied events, nulls, lookups) are
 * ingested over HTTP one request at a time; between requests, vectors are read with `consistent=true`. A read at
 * `at` = now must equal the as-served backfill of that (key, time) over the same log, and a read at any `at`
 * within the horizon must equal the reference over the events acknowledged before the read. A restart from a
 * checkpoint, with more events after it, serves the same vectors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileDefinitions } from '../../src/definitions/compile.js';
import type { AggregationFn, Plan } from '../../src/definitions/plan.js';
import type { ProjectSource } from '../../src/definitions/source.js';
import { backfill } from '../../src/engine/offline/backfill.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';
import { CheckpointStore } from '../../src/state/checkpoint-store.js';
import { readTrainingSet, writeRows } from '../offline/training-files.js';
import {
  BASE,
  eventArb,
  merchantRows,
  paymentFields,
  projectArb,
  STEP,
  tableRowArb,
} from '../reference/arbitraries.js';
import { disagreement } from '../reference/compare.js';
import { type ReferenceEvent, referenceVector } from '../reference/reference.js';

const RUNS = Number(process.env.TRIBUTARY_ONLINE_RUNS ?? 25);
const dir = mkdtempSync(join(tmpdir(), 'tributary-online-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const caseArb = fc.record({
  project: projectArb,
  events: fc.array(eventArb, { minLength: 1, maxLength: 40 }),
  rows: fc.array(tableRowArb, { maxLength: 6 }),
  reads: fc.array(
    fc.record({
      customer: fc.constantFrom('c1', 'c2', '7', 'nobody'),
      tick: fc.integer({ min: -2, max: 125 }),
      offset: fc.constantFrom(0, 1, -1, 250),
    }),
    { minLength: 40, maxLength: 40 },
  ),
  checkpointAfter: fc.nat(),
});

function compile(project: ProjectSource): Plan {
  const result = compileDefinitions(project);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.plan;
}

function compare(
  plan: Plan,
  actual: Record<string, unknown>,
  expected: ReturnType<typeof referenceVector>,
  where: string,
) {
  for (const [name, value] of Object.entries(expected)) {
    const fn = plan.features.g!.aggregations.find((a) => a.name === name)?.fn as AggregationFn;
    const problem = disagreement(fn, actual[name], value);
    if (problem) throw new Error(`${where}: ${name} ${problem}`);
  }
}

let counter = 0;

describe('online agrees with offline and with the reference', () => {
  it(`on ${RUNS} random streams ingested over HTTP, read with consistent=true`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        counter++;
        const plan = compile(c.project);
        const log = await EmbeddedLog.open(join(dir, `log-${counter}`));
        let now = BASE - 5_000;
        const intake = await Intake.open(plan, log, { now: () => now });
        const checkpoints = new CheckpointStore(join(dir, `state-${counter}`));
        let processor = await OnlineProcessor.open({ plan, log, checkpoints, now: () => now });
        let app = await buildServer({ plan, log, intake, processor, now: () => now });
        try {
          const tables = merchantRows(c.rows);

          await app.inject({
            method: 'POST',
            url: '/v1/streams/merchants/events',
            headers: { 'content-type': 'application/x-ndjson' },
            payload: tables.map((t) => JSON.stringify(t.row)).join('\n'),
          });
          const acknowledged: ReferenceEvent[] = [];
          const spine: { customerId: string; ts: number; read: Record<string, unknown> }[] = [];
          const restartAt = c.checkpointAfter % c.events.length;
          for (const [i, e] of c.events.entries()) {
            now = BASE + i * 1000;
            const fields = paymentFields(e, i);
            const response = await app.inject({
              method: 'POST',
              url: '/v1/streams/payments/events',
              payload: fields,
            });
            expect(response.statusCode).toBe(200);
            acknowledged.push({ stream: 'payments', seq: i, time: fields.ts as number, fields });
            if (i === restartAt) {
              // A restart: checkpoint, drop everything in memory, open again from the checkpoint.
              await processor.checkpoint();
              await processor.stop();
              await app.close();
              processor = await OnlineProcessor.open({ plan, log, checkpoints, now: () => now });
              app = await buildServer({ plan, log, intake, processor, now: () => now });
            }
            // A read at `at` = now, and one at any time within the horizon.
            now += 500;
            const read = c.reads[i]!;
            const atNow = await app.inject({
              method: 'GET',
              url: `/v1/views/v/${read.customer}?consistent=true`,
            });
            expect(atNow.statusCode, atNow.body).toBe(200);
            spine.push({ customerId: read.customer, ts: now, read: atNow.json().features });
            const at = BASE + read.tick * STEP + read.offset;
            const any = await app.inject({
              method: 'GET',
              url: `/v1/views/v/${read.customer}?consistent=true&at=${at}`,
            });
            expect(any.statusCode, any.body).toBe(200);
            compare(
              plan,
              any.json().features,
              referenceVector(plan, 'v', acknowledged, tables, { customer: read.customer }, at),
              `read ${i} at ${at}`,
            );
          }
          // The as-served backfill over the same log reproduces every read made at `at` = now.
          const spineFile = join(dir, `spine-${counter}.ndjson`);
          await writeRows(
            spineFile,
            spine.map(({ customerId, ts }) => ({ customerId, ts })),
            'ndjson',
          );
          const out = join(dir, `served-${counter}.ndjson`);
          await backfill({
            plan,
            view: 'v',
            spine: spineFile,
            out,
            history: { kind: 'log', log },
            asServed: true,
            workers: 0,
          });
          const rows = await readTrainingSet(out);
          spine.forEach((s, r) => {
            const { customerId: _k, ts: _t, ...offline } = rows[r]!;
            expect(offline, `read ${r}`).toEqual(JSON.parse(JSON.stringify(s.read)));
          });
        } finally {
          await processor.stop();
          await app.close();
          await log.close();
        }
      }),
      { numRuns: RUNS, seed: 21, endOnFailure: true },
    );
  }, 300_000);
});
