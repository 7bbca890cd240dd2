/**
 * Directed tests of the offline engine: the as-served view differs from the event-time view exactly where late
 * events say; workers give the same values as one thread; derived features take request inputs from the spine;
 * lists, structs and nulls in every output format; metadata; bad spine rows and bad history events.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { backfill } from '../../src/engine/offline/backfill.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { RISK_YAML } from '../fixtures/risk.js';
import { parquetKeyValues, readTrainingSet, writeRows } from './training-files.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-backfill-directed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plan() {
  const compiled = compileYaml(RISK_YAML, 'risk.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.plan;
}

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const payment = (
  id: string,
  customer: string,
  minute: number,
  amount: number,
  lat: number | null = null,
) => ({
  paymentId: id,
  customerId: customer,
  ts: T0 + minute * MINUTE,
  amount,
  lat,
  lon: lat === null ? null : -lat,
});

describe('backfill', () => {
  it('as served leaves out what had not arrived yet; event time puts late events where they belong', async () => {
    const log = await EmbeddedLog.open(join(dir, 'late-log'));
    let now = T0;
    const intake = await Intake.open(plan(), log, { now: () => now });
    // p1 at minute 10 arrives on time; p2 happened at minute 20 but arrives at minute 50 (late).
    now = T0 + 10 * MINUTE;
    await intake.ingest('payments', [{ value: payment('p1', 'c1', 10, 100) }]);
    now = T0 + 50 * MINUTE;
    await intake.ingest('payments', [{ value: payment('p2', 'c1', 20, 40) }]);
    const spine = join(dir, 'late-spine.ndjson');
    await writeRows(
      spine,
      [30, 60].map((m) => ({ customerId: 'c1', ts: T0 + m * MINUTE })),
      'ndjson',
    );
    const eventTime = join(dir, 'late-event-time.ndjson');
    const asServed = join(dir, 'late-as-served.ndjson');
    await backfill({ plan: plan(), view: 'risk', spine, out: eventTime, history: { kind: 'log', log } });
    await backfill({
      plan: plan(),
      view: 'risk',
      spine,
      out: asServed,
      history: { kind: 'log', log },
      asServed: true,
    });
    await log.close();
    const [e30, e60] = await readTrainingSet(eventTime);
    const [s30, s60] = await readTrainingSet(asServed);
    expect([e30!.count_1h, e30!.amount_sum_1d, e30!.last_amount]).toEqual([2, 140, 40]);
    expect([s30!.count_1h, s30!.amount_sum_1d, s30!.last_amount]).toEqual([1, 100, 100]); // p2 not there yet
    expect(s60).toEqual(e60); // by minute 60 it had arrived
    expect(e60!.amount_last3).toEqual([40, 100]);
  });

  it('computes the same values on worker threads as on one thread', async () => {
    const events = join(dir, 'many-events.ndjson');
    const rows = Array.from({ length: 40_000 }, (_, i) =>
      payment(
        `p${i}`,
        `c${(i * 7919) % 300}`,
        (i * 37) % 5000,
        (i % 97) + 1,
        i % 5 === 0 ? null : (i % 90) - 45,
      ),
    );
    await writeRows(events, rows, 'ndjson');
    const spine = join(dir, 'many-spine.csv');
    await writeRows(
      spine,
      Array.from({ length: 3000 }, (_, i) => ({
        customerId: `c${i % 310}`,
        ts: T0 + ((i * 13) % 5100) * MINUTE,
        amount: i,
      })),
      'csv',
    );
    const one = join(dir, 'one.ndjson');
    const two = join(dir, 'two.ndjson');
    const history = { kind: 'files' as const, files: { payments: [events] } };
    await backfill({ plan: plan(), view: 'risk', spine, out: one, history, workers: 0 });
    await backfill({ plan: plan(), view: 'risk', spine, out: two, history, workers: 2 });
    const a = await readTrainingSet(one);
    const b = await readTrainingSet(two);
    expect(b).toEqual(a);
    expect(a.filter((r) => (r.count_1h as number) > 0).length).toBeGreaterThan(100);
  });

  for (const format of ['parquet', 'csv', 'ndjson'] as const) {
    it(`writes ${format}: spine columns unchanged and in order, lists, structs, nulls, derived features`, async () => {
      const events = join(dir, `fmt-events-${format}.ndjson`);
      await writeRows(
        events,
        [payment('p1', 'c1', 1, 10, 45), payment('p2', 'c1', 2, 30), payment('p3', 'c2', 3, 5, 10)],
        'ndjson',
      );
      const spine = join(dir, `fmt-spine-${format}.csv`);
      await writeRows(
        spine,
        [
          { customerId: 'c1', ts: T0 + 5 * MINUTE, amount: 20, label: 'fraud' },
          { customerId: 'new', ts: T0 + 5 * MINUTE, amount: 1, label: 'ok' },
          { customerId: 'c1', ts: T0 + 2 * MINUTE, amount: 10, label: 'ok' },
        ],
        'csv',
      );
      const out = join(dir, `fmt-out.${format}`);
      const summary = await backfill({
        plan: plan(),
        view: 'risk',
        spine,
        out,
        history: { kind: 'files', files: { payments: [events] } },
      });
      expect(summary).toMatchObject({ rows: 3, eventsRead: 3, rejected: 0, rejectsFile: null });
      const rows = await readTrainingSet(out);
      expect(Object.keys(rows[0]!)).toEqual([
        'customerId',
        'ts',
        'amount',
        'label',
        'count_1h',
        'amount_sum_1d',
        'last_amount',
        'amount_last3',
        'last_location',
        'amount_share',
      ]);
      const parse = (v: unknown) => (format === 'csv' && typeof v === 'string' ? JSON.parse(v) : v);
      expect(rows.map((r) => r.label)).toEqual(['fraud', 'ok', 'ok']);
      expect(rows.map((r) => Number(r.count_1h))).toEqual([2, 0, 1]);
      expect(parse(rows[0]!.amount_last3)).toEqual([30, 10]);
      expect(parse(rows[1]!.amount_last3)).toEqual([]);
      expect(parse(rows[0]!.last_location)).toEqual({ lat: 45, lon: -45 });
      expect(rows[1]!.last_location).toBeNull();
      expect(rows[1]!.last_amount).toBeNull();
      expect(Number(rows[0]!.amount_share)).toBeCloseTo(20 / 60, 12);
      if (format === 'parquet') {
        const metadata = await parquetKeyValues(out);
        expect(metadata['tributary.plan_hash']).toBe(plan().hash);
        expect(metadata['tributary.view']).toBe('risk');
      }
    });
  }

  it('records the log positions it read in the Parquet metadata', async () => {
    const log = await EmbeddedLog.open(join(dir, 'positions-log'));
    const intake = await Intake.open(plan(), log, { now: () => T0 + 100 * MINUTE });
    await intake.ingest(
      'payments',
      [1, 2, 3].map((i) => ({ value: payment(`p${i}`, `c${i}`, i, i) })),
    );
    const spine = join(dir, 'positions-spine.ndjson');
    await writeRows(spine, [{ customerId: 'c1', ts: T0 + 10 * MINUTE }], 'ndjson');
    const out = join(dir, 'positions.parquet');
    await backfill({ plan: plan(), view: 'risk', spine, out, history: { kind: 'log', log } });
    await log.close();
    const positions = JSON.parse((await parquetKeyValues(out))['tributary.log_positions']!);
    expect(positions.payments.reduce((a: number, b: number) => a + b, 0)).toBe(3);
  });

  it('fails on a bad spine row with its row number, or sets it aside with --skip-invalid', async () => {
    const events = join(dir, 'bad-events.ndjson');
    await writeRows(events, [payment('p1', 'c1', 1, 10)], 'ndjson');
    const spine = join(dir, 'bad-spine.ndjson');
    await writeRows(
      spine,
      [
        { customerId: 'c1', ts: T0 + 5 * MINUTE },
        { customerId: 'c1', ts: '2026-01-01T00:05:00' }, // no offset: ambiguous
        { customerId: null, ts: T0 },
      ],
      'ndjson',
    );
    const history = { kind: 'files' as const, files: { payments: [events] } };
    const out = join(dir, 'bad-out.ndjson');
    await expect(backfill({ plan: plan(), view: 'risk', spine, out, history })).rejects.toThrow(
      /row 2: `ts` = "2026-01-01T00:05:00" has no offset/,
    );
    const summary = await backfill({ plan: plan(), view: 'risk', spine, out, history, skipInvalid: true });
    expect(summary).toMatchObject({ rows: 1, skippedRows: 2 });
    expect(await readTrainingSet(out)).toHaveLength(1);
    const rejects = readFileSync(summary.rejectsFile!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.kind, r.line])).toEqual([
      ['spine', 2],
      ['spine', 3],
    ]);
  });

  it('sends history events that break their contract to the rejects file, counted, in every format', async () => {
    for (const format of ['ndjson', 'csv', 'parquet'] as const) {
      const events = join(dir, `dirty-events.${format}`);
      await writeRows(
        events,
        [
          payment('p1', 'c1', 1, 10),
          { ...payment('p2', 'c1', 2, 10), customerId: null }, // missing key
          { ...payment('p3', 'c1', 3, 10), amount: null }, // amount is required to be a number
          payment('p1', 'c1', 4, 99), // a second copy of p1: a duplicate
        ],
        format,
      );
      const spine = join(dir, 'dirty-spine.ndjson');
      await writeRows(spine, [{ customerId: 'c1', ts: T0 + 10 * MINUTE }], 'ndjson');
      const out = join(dir, `dirty-out-${format}.ndjson`);
      const summary = await backfill({
        plan: plan(),
        view: 'risk',
        spine,
        out,
        history: { kind: 'files', files: { payments: [events] } },
      });
      expect(summary, format).toMatchObject({ eventsRead: 1, rejected: 2, duplicates: 1 });
      expect((await readTrainingSet(out))[0]).toMatchObject({ count_1h: 1, last_amount: 10 });
      const rejects = readFileSync(summary.rejectsFile!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(
        rejects.map((r) => [r.line, r.reason]),
        format,
      ).toEqual([
        [format === 'csv' ? 3 : 2, 'missing_key'],
        [format === 'csv' ? 4 : 3, 'schema_violation'],
      ]);
      expect(existsSync(summary.rejectsFile!)).toBe(true);
    }
  });

  it('refuses what it cannot do, saying what to do instead', async () => {
    const spine = join(dir, 'refuse-spine.ndjson');
    await writeRows(spine, [{ customer: 'c1', ts: T0 }], 'ndjson');
    const events = join(dir, 'refuse-events.ndjson');
    await writeRows(events, [payment('p1', 'c1', 1, 10)], 'ndjson');
    const base = { plan: plan(), spine, out: join(dir, 'refuse.ndjson') };
    const files = { kind: 'files' as const, files: { payments: [events] } };
    await expect(backfill({ ...base, view: 'nope', history: files })).rejects.toThrow(
      /unknown view `nope`; known: risk/,
    );
    await expect(backfill({ ...base, view: 'risk', history: files })).rejects.toThrow(
      /has no column `customerId`.*--key <entity>=<column>/,
    );
    await expect(
      backfill({
        ...base,
        view: 'risk',
        history: files,
        keyColumns: { customer: 'customer' },
        asServed: true,
      }),
    ).rejects.toThrow(/as-served view needs arrival times/);
    await expect(
      backfill({ ...base, view: 'risk', history: { kind: 'files', files: { refunds: [events] } } }),
    ).rejects.toThrow(/--events refunds: the view `risk` does not read `refunds`/);
    const ok = await backfill({
      ...base,
      view: 'risk',
      history: files,
      keyColumns: { customer: 'customer' },
    });
    expect(ok.rows).toBe(1);
  });
});
