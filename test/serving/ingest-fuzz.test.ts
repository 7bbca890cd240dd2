/**
 * Fuzzing HTTP ingest: malformed, huge, deeply nested, wrong-typed and unicode-heavy payloads. The server never
 * answers 5xx for what a client sent, every event is counted as accepted, duplicate or rejected with a known
 * reason, and every rejected event is in the dead letters.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECTION_REASONS } from '../../src/contracts/rejection.js';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const compiled = compileYaml(readFileSync(new URL('../fixtures/fraud.yaml', import.meta.url), 'utf8'));
if (!compiled.ok) throw new Error('fixture');
const plan = compiled.plan;

let log: EmbeddedLog;
let app: Awaited<ReturnType<typeof buildServer>>;
let intake: Intake;
beforeAll(async () => {
  log = await EmbeddedLog.open(mkdtempSync(join(tmpdir(), 'tributary-fuzz-')));
  intake = await Intake.open(plan, log, { now: () => NOW, maxEventBytes: 64 * 1024 });
  app = await buildServer({ plan, log, intake, now: () => NOW, bodyLimit: 1024 * 1024 });
});
afterAll(async () => {
  await log.close();
});

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const valid = fc.record({
  paymentId: fc.oneof(fc.uuid(), fc.string({ unit: 'grapheme', maxLength: 20 })),
  customerId: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.integer()),
  merchantId: fc.string({ maxLength: 8 }),
  ts: fc.oneof(
    fc.integer({ min: NOW - 1e10, max: NOW + 1e9 }),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-01-01T00:00:00', 'yesterday', ''),
  ),
  amount: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null)),
  lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constant(null), fc.constant('north')),
});
const line = fc.oneof(
  { weight: 4, arbitrary: valid.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.json() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5_000 }).map(nested) },
  { weight: 1, arbitrary: valid.map((v) => JSON.stringify({ ...v, blob: 'x'.repeat(70 * 1024) })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\r',
      'null',
      '[]',
      '{}',
      '"str"',
      '{"__proto__":{"x":1}}',
      '\u0000',
      '\uFEFF{}',
    ),
  },
);
const request = fc.record({
  stream: fc.oneof(
    { weight: 8, arbitrary: fc.constant('payments') },
    { weight: 1, arbitrary: fc.constantFrom('merchants', 'nope', '%F0%9F%92%A9', 'a'.repeat(300)) },
  ),
  contentType: fc.constantFrom(
    'application/x-ndjson',
    'application/json',
    'text/plain',
    'application/octet-stream',
    'application/x-ndjson; charset=utf-8',
  ),
  lines: fc.array(line, { maxLength: 30 }),
});

describe('HTTP ingest under fuzzing', () => {
  it('never answers 5xx and accounts for every event', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ stream, contentType, lines }) => {
        const body = lines.join('\n');
        const before = Object.fromEntries(await intake.deadLetters.countsOf('payments'));
        const response = await app.inject({
          method: 'POST',
          url: `/v1/streams/${stream}/events`,
          headers: { 'content-type': contentType },
          payload: body,
        });
        expect(response.statusCode, response.body).toBeLessThan(500);
        if (response.statusCode !== 200 || stream !== 'payments') return;
        const result = response.json() as {
          accepted: number;
          duplicates: number;
          rejected: { line: number; reason: string; detail: string }[];
        };
        const events = contentType.startsWith('application/x-ndjson')
          ? lines
              .join('\n')
              .split('\n')
              .filter((l) => l.replace(/\r$/, '').trim() !== '').length
          : 1;
        expect(result.accepted + result.duplicates + result.rejected.length).toBe(events);
        for (const r of result.rejected) {
          expect(REJECTION_REASONS).toContain(r.reason);
          expect(r.detail.length).toBeGreaterThan(0);
        }
        const after = Object.fromEntries(await intake.deadLetters.countsOf('payments'));
        const added =
          Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0);
        expect(added).toBe(result.rejected.length);
      }),
      { numRuns: Number(process.env.TRIBUTARY_FUZZ_RUNS ?? 300), seed: 11 },
    );
  });
});
