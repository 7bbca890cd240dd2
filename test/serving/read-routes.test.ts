/** Feature reads over HTTP: answers and status codes as interface.md says. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { DEMO_DEFINITIONS } from '../../src/demo/payments.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';
import { RISK_YAML } from '../fixtures/risk.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
let counter = 0;

async function server(yaml: string) {
  const compiled = compileYaml(yaml, 'test.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const plan = compiled.plan;
  const log = await EmbeddedLog.open(join(dir, `log-${++counter}`));
  const clock = { now: T0 + 48 * HOUR };
  const intake = await Intake.open(plan, log, { now: () => clock.now });
  const processor = await OnlineProcessor.open({ plan, log, now: () => clock.now });
  const app = await buildServer({ plan, log, intake, processor, now: () => clock.now });
  return {
    app,
    processor,
    clock,
    close: async () => {
      await app.close();
      await processor.stop();
      await log.close();
    },
  };
}

const payment = (id: string, customer: string, ts: number, amount: number) => ({
  paymentId: id,
  customerId: customer,
  merchantId: 'm1',
  ts,
  amount,
  lat: 48.85,
  lon: 2.35,
});

describe('feature reads', () => {
  it('serves vectors of one key, empty-window values for a new key, and refuses bad requests clearly', async () => {
    const { app, processor, close } = await server(RISK_YAML);
    try {
      // Before the first catch-up the state is being built: reads wait, readiness says so.
      expect((await app.inject({ url: '/v1/views/risk/c1' })).statusCode).toBe(503);
      expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ ready: false, rebuilding: true });
      await processor.catchUp();
      expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ ready: true, behind: 0 });

      const ingest = await app.inject({
        method: 'POST',
        url: '/v1/streams/payments/events',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: [payment('p1', 'c1', T0 + 46.5 * HOUR, 10), payment('p2', 'c1', T0 + 47.5 * HOUR, 30)]
          .map((p) => JSON.stringify(p))
          .join('\n'),
      });
      expect(ingest.json()).toMatchObject({ accepted: 2 });
      const read = await app.inject({ url: '/v1/views/risk/c1?consistent=true' });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual({
        view: 'risk',
        keys: { customer: 'c1' },
        at: T0 + 48 * HOUR,
        features: {
          count_1h: 1,
          amount_sum_1d: 40,
          last_amount: 30,
          amount_last3: [30, 10],
          last_location: { lat: 48.85, lon: 2.35 },
          amount_share: null, // no request amount: null in, null out
        },
      });
      // Written by the view's compiled writer: the text JSON.stringify gives for the in-process answer, in order.
      expect(read.headers['content-type']).toBe('application/json; charset=utf-8');
      const at = T0 + 48 * HOUR;
      expect(read.body).toBe(
        JSON.stringify({
          view: 'risk',
          keys: { customer: 'c1' },
          at,
          features: processor.read('risk', { customer: 'c1' }, at),
        }),
      );
      const iso = await app.inject({
        url: `/v1/views/risk/c1?at=${encodeURIComponent('2026-01-02T23:30:00+00:00')}`,
      });
      expect(iso.json().features.count_1h).toBe(1);
      expect(iso.json().at).toBe(T0 + 47.5 * HOUR);

      const fresh = await app.inject({ url: '/v1/views/risk/someone-new' });
      expect(fresh.json().features).toEqual({
        count_1h: 0,
        amount_sum_1d: 0,
        last_amount: null,
        amount_last3: [],
        last_location: null,
        amount_share: null,
      });

      const unknown = await app.inject({ url: '/v1/views/nope/c1' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ error: 'unknown view `nope`', views: ['risk'] });
      const malformed = await app.inject({ url: '/v1/views/risk/c1?at=yesterday' });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error).toMatch(/not ISO-8601/);
      const noOffset = await app.inject({ url: '/v1/views/risk/c1?at=2026-01-02T10:00:00' });
      expect(noOffset.statusCode).toBe(400);
      expect(noOffset.json().error).toMatch(/no offset/);
      const old = await app.inject({ url: `/v1/views/risk/c1?at=${T0}` });
      expect(old.statusCode).toBe(400);
      expect(old.json().error).toMatch(/before the online horizon.*tributary backfill/);
    } finally {
      await close();
    }
  });

  it('serves batches over several entities with request inputs, in row order', async () => {
    const { app, processor, close } = await server(DEMO_DEFINITIONS);
    try {
      await processor.catchUp();
      await app.inject({
        method: 'POST',
        url: '/v1/streams/merchants/events',
        payload: { merchantId: 'm1', category: 'food', updatedAt: T0 },
      });
      await app.inject({
        method: 'POST',
        url: '/v1/streams/payments/events',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: [payment('p1', 'c1', T0 + 47.9 * HOUR, 1000), payment('p2', 'c2', T0 + 47.95 * HOUR, 3000)]
          .map((p) => JSON.stringify(p))
          .join('\n'),
      });
      const batch = await app.inject({
        method: 'POST',
        url: '/v1/views/fraud/batch',
        payload: {
          consistent: true,
          rows: [
            { keys: { customer: 'c2', merchant: 'm1' }, request: { amount: 500, lat: 48.85, lon: 2.35 } },
            {
              keys: { customer: 'c1', merchant: 'm1' },
              at: T0 + 47.92 * HOUR,
              request: { amount: 1, lat: 0, lon: 0 },
            },
          ],
        },
      });
      expect(batch.statusCode, batch.body).toBe(200);
      const [first, second] = batch.json().vectors;
      expect(first.keys).toEqual({ customer: 'c2', merchant: 'm1' });
      expect(first.features.count_1d).toBe(1);
      expect(first.features.merchant_count_1h).toBe(2);
      expect(first.features.distance_km).toBeCloseTo(0, 6);
      expect(second.features.merchant_count_1h).toBe(1); // p2 is after this row's time
      expect(second.features.distance_km).toBeGreaterThan(5000);

      const missing = await app.inject({
        method: 'POST',
        url: '/v1/views/fraud/batch',
        payload: { rows: [{ keys: { customer: 'c1' } }] },
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toMatch(/rows\[0\]: keys\.merchant is missing/);
      const notJson = await app.inject({
        method: 'POST',
        url: '/v1/views/fraud/batch',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      });
      expect(notJson.statusCode).toBe(400);
      const single = await app.inject({ url: '/v1/views/fraud/c1' });
      expect(single.statusCode).toBe(400);
      expect(single.json().error).toMatch(/POST \/v1\/views\/fraud\/batch/);
    } finally {
      await close();
    }
  });
});
