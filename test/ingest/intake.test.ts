import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_STREAM } from '../../src/contracts/dead-letters.js';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Intake, type StoredEvent } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { failingDisk } from '../fixtures/failing-disk.js';

const fraud = readFileSync(new URL('../fixtures/fraud.yaml', import.meta.url), 'utf8');
const NOW = Date.UTC(2026, 0, 1, 12);

function plan(yaml = fraud) {
  const result = compileYaml(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

const line = (fields: Record<string, unknown>) => ({
  text: JSON.stringify({
    paymentId: 'p1',
    customerId: 'c1',
    merchantId: 'm1',
    ts: NOW - 1000,
    amount: 100,
    ...fields,
  }),
});

async function stored(log: EmbeddedLog, stream: string) {
  const out: StoredEvent[] = [];
  for (let p = 0; p < log.partitions(stream); p++)
    for (const r of await log.read(stream, p, 0, 1e9)) out.push(JSON.parse(Buffer.from(r.value).toString()));
  return out;
}

describe('the intake', () => {
  it('stores events given as byte ranges of a shared buffer bytes for bytes, with their time in front', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    const times = [-5, 0, 7, 999_999_999_999, NOW - 1000];
    // Non-ASCII bytes outside the keys stay on the fast path; `\u00e9` (an escape) takes the full check.
    const merchants = ['m1', 'café ☕', 'caf\u00e9', 'm2', '☕'];
    const texts = times.map((ts, i) =>
      line({ paymentId: `b${i}`, ts }).text.replace('"m1"', `"${merchants[i]}"`),
    );
    const body = Buffer.from(`${texts.join('\n')}\n`);
    const items = [];
    for (let start = 0, k = 0; k < texts.length; k++) {
      const end = start + Buffer.byteLength(texts[k]!);
      items.push({ bytes: body, start, end });
      start = end + 1;
    }
    expect((await intake.ingest('payments', items)).accepted).toBe(times.length);
    const events = await stored(log, 'payments');
    expect(events.map((e) => e.t).sort((a, b) => a - b)).toEqual([...times].sort((a, b) => a - b));
    expect(events.map((e) => e.f.merchantId).sort()).toEqual(['café', 'café ☕', 'm1', 'm2', '☕']);
    // The stored value is the producer's text, bytes for bytes, after the time.
    const raw: string[] = [];
    for (let p = 0; p < log.partitions('payments'); p++)
      for (const r of await log.read('payments', p, 0, 100)) raw.push(Buffer.from(r.value).toString());
    expect(raw.sort()).toEqual(texts.map((text, i) => `{"t":${times[i]},"f":${text}}`).sort());
    await log.close();
  });

  it('stores every event of batches past 1,024 events, and of the next batch that reuses their columns', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    const batch = (from: number, count: number) => {
      const texts = Array.from(
        { length: count },
        (_, i) => line({ paymentId: `q${from + i}`, ts: from + i }).text,
      );
      const body = Buffer.from(texts.join('\n'));
      let start = 0;
      return texts.map((text) => {
        const item = { bytes: body, start, end: start + text.length };
        start = item.end + 1;
        return item;
      });
    };
    expect((await intake.ingest('payments', batch(0, 2500))).accepted).toBe(2500);
    expect((await intake.ingest('payments', batch(2500, 300))).accepted).toBe(300);
    const events = await stored(log, 'payments');
    expect(events.map((e) => `${e.f.paymentId}@${e.t}`).sort()).toEqual(
      Array.from({ length: 2800 }, (_, i) => `q${i}@${i}`).sort(),
    );
    await log.close();
  });

  it('accepts, de-duplicates and dead-letters each event with its line and reason', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    const result = await intake.ingest('payments', [
      line({ paymentId: 'p1' }),
      line({ paymentId: 'p1', amount: 999 }), // a later copy: a duplicate, ignored
      { text: '{"paymentId": "p2",' }, // malformed JSON
      line({ paymentId: 'p3', customerId: undefined }),
      line({ paymentId: 'p4', ts: '2026-01-01T10:00:00' }),
      line({ paymentId: 'p5', ts: NOW + 3_600_000 }),
      line({ paymentId: 'p6', amount: 'lots' }),
      { value: [1, 2] },
      line({ paymentId: 'p7', customerId: 42, ts: '2026-01-01T11:59:00.5+01:00' }),
    ]);
    expect(result.accepted).toBe(2);
    expect(result.duplicates).toBe(1);
    expect(result.rejected.map((r) => [r.line, r.reason])).toEqual([
      [3, 'malformed_json'],
      [4, 'missing_key'],
      [5, 'ambiguous_time'],
      [6, 'future_time'],
      [7, 'schema_violation'],
      [8, 'not_an_object'],
    ]);
    const events = await stored(log, 'payments');
    expect(events.map((e) => e.f.amount)).toEqual(expect.arrayContaining([100, 100]));
    const p7 = events.find((e) => e.f.paymentId === 'p7')!;
    expect(p7).toEqual({
      t: Date.UTC(2026, 0, 1, 10, 59, 0, 500),
      f: expect.objectContaining({ customerId: '42', ts: Date.UTC(2026, 0, 1, 10, 59, 0, 500) }),
    });
    const page = await intake.deadLetters.list('payments', { reason: 'future_time' });
    expect(page.letters).toHaveLength(1);
    expect(page.letters[0]).toMatchObject({
      line: 6,
      raw: expect.stringContaining('"p5"'),
      schemaVersion: expect.any(String),
    });
    expect(Object.fromEntries(await intake.deadLetters.countsOf('payments'))).toEqual({
      malformed_json: 1,
      missing_key: 1,
      ambiguous_time: 1,
      future_time: 1,
      schema_violation: 1,
      not_an_object: 1,
    });
    await log.close();
  });

  it('remembers ids across a restart, and pages dead letters with a cursor', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-intake-'));
    let log = await EmbeddedLog.open(root);
    let intake = await Intake.open(plan(), log, { now: () => NOW });
    await intake.ingest('payments', [
      line({ paymentId: 'a' }),
      ...Array.from({ length: 25 }, (_, i) => ({ text: `bad ${i}` })),
    ]);
    await log.close();
    log = await EmbeddedLog.open(root);
    intake = await Intake.open(plan(), log, { now: () => NOW + 1000 });
    expect(
      await intake.ingest('payments', [line({ paymentId: 'a' }), line({ paymentId: 'b' })]),
    ).toMatchObject({ accepted: 1, duplicates: 1 });
    const first = await intake.deadLetters.list('payments', { limit: 10 });
    const second = await intake.deadLetters.list('payments', { limit: 10, cursor: first.nextCursor! });
    const third = await intake.deadLetters.list('payments', { limit: 10, cursor: second.nextCursor! });
    expect([first.letters.length, second.letters.length, third.letters.length, third.nextCursor]).toEqual([
      10,
      10,
      5,
      null,
    ]);
    expect(new Set([...first.letters, ...second.letters, ...third.letters].map((l) => l.raw)).size).toBe(25);
    await log.close();
  });

  it('replays dead letters once after the schema is fixed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-intake-'));
    let log = await EmbeddedLog.open(root);
    let intake = await Intake.open(plan(), log, { now: () => NOW });
    await intake.ingest('payments', [line({ paymentId: 'x', amount: '12.5' }), { text: 'not json' }]);
    await log.close();
    // The producer sends amounts as strings: the schema now allows it.
    const fixed = fraud.replace(
      'amount: { type: number, description: "in cents" }',
      'amount: { type: [number, string] }',
    );
    log = await EmbeddedLog.open(root);
    intake = await Intake.open(plan(fixed), log, { now: () => NOW + 1000 });
    const replay = await intake.replay('payments');
    expect(replay.replayed).toBe(1);
    expect(replay.result).toMatchObject({ accepted: 1, rejected: [{ reason: 'malformed_json' }] });
    const again = await intake.replay('payments'); // the fixed one is not replayed twice; the malformed one is still there
    expect(again.replayed).toBe(0);
    expect(again.result).toMatchObject({ accepted: 0, rejected: [{ reason: 'malformed_json' }] });
    expect((await intake.deadLetters.list('payments')).letters).toHaveLength(2); // nothing dead-lettered twice
    expect((await stored(log, 'payments')).map((e) => e.f.paymentId)).toEqual(['x']);
    await log.close();
  });

  it('keeps events for an unknown stream in the project-wide dead letters', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    const result = await intake.ingest('paymnts', [line({})]);
    expect(result).toMatchObject({
      unknownStream: true,
      accepted: 0,
      rejected: [{ reason: 'unknown_stream' }],
    });
    expect((await intake.deadLetters.list(UNKNOWN_STREAM)).letters[0]!.raw).toContain('"p1"');
    await log.close();
  });

  it('ingests tables like streams, future valid-from included, and refuses events over the size limit', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW, maxEventBytes: 200 });
    const table = await intake.ingest('merchants', [
      { value: { merchantId: 'm1', category: 'food', updatedAt: NOW + 86_400_000 } },
    ]);
    expect(table.accepted).toBe(1);
    const big = await intake.ingest('payments', [line({ note: 'x'.repeat(300) })]);
    expect(big.rejected[0]!.reason).toBe('too_large');
    await log.close();
  });

  it('takes back what a batch added to the de-duplication memory when storing it failed: a retry is accepted', async () => {
    const disk = failingDisk();
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')), {
      openForWrite: disk.openForWrite,
    });
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    // One event on the fast path (an ASCII id, remembered from its bytes), one through the full check (a time
    // to normalise, an id remembered as a string).
    const batch = [
      line({ paymentId: 'fast' }),
      line({ paymentId: 'slow', ts: new Date(NOW - 1000).toISOString() }),
    ];
    await intake.ingest('payments', [line({ paymentId: 'first' })]); // the stream exists, on the failing disk
    disk.state.noSpace = true;
    await expect(intake.ingest('payments', batch)).rejects.toMatchObject({ code: 'TRIBUTARY_LOG_DISK_FULL' });
    disk.state.noSpace = false;
    expect(await intake.ingest('payments', batch)).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(await intake.ingest('payments', batch)).toMatchObject({ accepted: 0, duplicates: 2 });
    await log.close();
  });

  it('does not count an event as arrived when storing it failed', async () => {
    const log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-intake-')));
    const intake = await Intake.open(plan(), log, { now: () => NOW });
    await log.close();
    await expect(intake.ingest('payments', [line({ paymentId: 'z' })])).rejects.toThrow(/closed/);
    const reopened = await EmbeddedLog.open(log.root);
    const retry = await (await Intake.open(plan(), reopened, { now: () => NOW })).ingest('payments', [
      line({ paymentId: 'z' }),
    ]);
    expect(retry.accepted).toBe(1);
    await reopened.close();
  });
});
