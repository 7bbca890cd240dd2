/** API keys with scopes, stored hashed; the Prometheus metrics; the OpenAPI description at /docs. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { ApiKeys } from '../../src/serving/api-keys.js';
import { buildServer } from '../../src/serving/server.js';
import { RISK_YAML } from '../fixtures/risk.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function server(apiKeys?: ApiKeys) {
  const compiled = compileYaml(RISK_YAML, 'risk.yaml');
  if (!compiled.ok) throw new Error('fixture');
  const plan = compiled.plan;
  const log = await EmbeddedLog.open(join(dir, `log-${Math.random()}`));
  const intake = await Intake.open(plan, log);
  const processor = await OnlineProcessor.open({ plan, log });
  await processor.catchUp();
  const app = await buildServer({ plan, log, intake, processor, ...(apiKeys ? { apiKeys } : {}) });
  return {
    app,
    close: async () => {
      await app.close();
      await processor.stop();
      await log.close();
    },
  };
}

const event = { paymentId: 'p1', customerId: 'c1', ts: Date.now() - 1000, amount: 5 };

describe('API keys', () => {
  it('are required once configured, checked by scope, and stored only as hashes', async () => {
    const file = join(dir, 'keys.json');
    const keys = ApiKeys.open(file);
    const writer = keys.add('producer', ['ingest:payments']);
    const reader = keys.add('model', ['read:*']);
    const admin = keys.add('ops', ['admin']);
    const stored = readFileSync(file, 'utf8');
    for (const key of [writer, reader, admin]) expect(stored).not.toContain(key);
    expect(() => keys.add('bad', ['write:everything'])).toThrow(/not a scope/);

    const { app, close } = await server(ApiKeys.open(file));
    const as = (key: string | null) => (key ? { authorization: `Bearer ${key}` } : {});
    try {
      const ingest = (key: string | null) =>
        app.inject({ method: 'POST', url: '/v1/streams/payments/events', headers: as(key), payload: event });
      expect((await ingest(null)).statusCode).toBe(401);
      expect((await ingest('trb_wrong')).json()).toEqual({ error: 'unknown API key' });
      const refused = await ingest(reader);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toBe('the key `model` lacks the scope `ingest:payments`');
      expect((await ingest(writer)).statusCode).toBe(200);
      expect((await ingest(admin)).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/views/risk/c1', headers: as(writer) })).statusCode).toBe(403);
      expect(
        (await app.inject({ url: '/v1/views/risk/c1?consistent=true', headers: as(reader) })).statusCode,
      ).toBe(200);
      expect(
        (await app.inject({ url: '/v1/streams/payments/dead-letters', headers: as(reader) })).statusCode,
      ).toBe(403);
      expect(
        (await app.inject({ url: '/v1/streams/payments/dead-letters', headers: as(admin) })).statusCode,
      ).toBe(200);
      expect((await app.inject({ url: '/metrics', headers: as(reader) })).statusCode).toBe(403);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await close();
    }
  });
});

describe('operations', () => {
  it('exposes metrics: events by outcome, freshness, read latency, log lag', async () => {
    const { app, close } = await server();
    try {
      await app.inject({
        method: 'POST',
        url: '/v1/streams/payments/events',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: `${JSON.stringify(event)}\n${JSON.stringify(event)}\n{"paymentId": "p2"}\nnot json\n`,
      });
      await app.inject({ url: '/v1/views/risk/c1?consistent=true' });
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(text).toContain('tributary_events_accepted_total{stream="payments"} 1');
      expect(text).toContain('tributary_events_duplicate_total{stream="payments"} 1');
      expect(text).toContain('tributary_events_rejected_total{stream="payments",reason="malformed_json"} 1');
      expect(text).toContain('tributary_events_rejected_total{stream="payments",reason="missing_key"} 1');
      expect(text).toMatch(/tributary_freshness_seconds_count\{stream="payments"\} 1/);
      expect(text).toMatch(/tributary_read_seconds_count\{route="\/v1\/views\/:view\/:key"\} 1/);
      expect(text).toContain('tributary_log_lag_records 0');
    } finally {
      await close();
    }
  });

  it('describes its API in OpenAPI at /docs', async () => {
    const { app, close } = await server();
    try {
      const docs = (await app.inject({ url: '/docs' })).json();
      expect(docs.openapi).toMatch(/^3\./);
      expect(Object.keys(docs.paths)).toEqual(
        expect.arrayContaining([
          '/v1/streams/{stream}/events',
          '/v1/views/{view}/{key}',
          '/v1/views/{view}/batch',
          '/metrics',
        ]),
      );
    } finally {
      await close();
    }
  });
});
