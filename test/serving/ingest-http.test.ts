import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const fraud = readFileSync(new URL('../fixtures/fraud.yaml', import.meta.url), 'utf8');
const compiled = compileYaml(fraud);
if (!compiled.ok) throw new Error('fixture');
const plan = compiled.plan;
const event = (id: string | null, fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...(id ? { paymentId: id } : {}),
    customerId: 'c1',
    merchantId: 'm1',
    ts: NOW - 1000,
    amount: 100,
    ...fields,
  });

const opened: EmbeddedLog[] = [];
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
});

async function server(
  options: { root?: string; bodyLimit?: number; maxPendingEvents?: number; plan?: typeof plan } = {},
) {
  const log = await EmbeddedLog.open(options.root ?? mkdtempSync(join(tmpdir(), 'tributary-http-')));
  opened.push(log);
  const p = options.plan ?? plan;
  const intake = await Intake.open(p, log, { now: () => NOW });
  const app = await buildServer({
    plan: p,
    log,
    intake,
    now: () => NOW,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.maxPendingEvents ? { maxPendingEvents: options.maxPendingEvents } : {}),
  });
  return { app, log, intake };
}

describe('HTTP ingest', () => {
  it('answers 200 with accepted, duplicates and each rejected line of an NDJSON batch', async () => {
    const { app } = await server();
    const body = [
      event('p1'),
      event('p1'),
      '',
      '{"broken',
      event('p2', { ts: '2026-01-01T00:00:00' }),
      event('p3'),
    ].join('\n');
    const response = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: body,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: [
        { line: 4, reason: 'malformed_json', detail: expect.any(String) },
        { line: 5, reason: 'ambiguous_time', detail: expect.stringContaining('no offset') },
      ],
    });
  });

  it('dead-letters a malformed single event instead of refusing it, and lists and replays dead letters', async () => {
    const { app } = await server();
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"amount": ',
    });
    expect(bad.statusCode).toBe(200);
    expect(bad.json().rejected[0].reason).toBe('malformed_json');
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/json' },
      payload: event('p9', { amount: 'x' }),
    });
    expect(wrong.json().rejected[0]).toMatchObject({ reason: 'schema_violation' });
    const list = await app.inject({
      method: 'GET',
      url: '/v1/streams/payments/dead-letters?reason=schema_violation',
    });
    expect(list.json()).toMatchObject({
      counts: { malformed_json: 1, schema_violation: 1 },
      deadLetters: [{ rejection: { reason: 'schema_violation' } }],
      nextCursor: null,
    });
    const paged = await app.inject({ method: 'GET', url: '/v1/streams/payments/dead-letters?limit=1' });
    expect(paged.json().nextCursor).toBe(1);
    const replay = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/dead-letters/replay',
      headers: { 'content-type': 'application/json' },
      payload: '{"reason":"malformed_json"}',
    });
    expect(replay.json()).toMatchObject({
      replayed: 0,
      accepted: 0,
      stillRejected: [{ reason: 'malformed_json' }],
    });
    expect(
      (await app.inject({ method: 'GET', url: '/v1/streams/payments/dead-letters?cursor=-1' })).statusCode,
    ).toBe(400);
  });

  it('answers 404 for an unknown stream, keeping the payload in the project-wide dead letters', async () => {
    const { app } = await server();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/streams/paymnts/events',
      headers: { 'content-type': 'application/json' },
      payload: event('p1'),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ streams: ['payments'], deadLettered: 1 });
    const kept = await app.inject({ method: 'GET', url: '/v1/streams/_unknown/dead-letters' });
    expect(kept.json().deadLetters[0].raw).toContain('"p1"');
  });

  it('answers 413 over the size limit and 429 when too much waits for the disk', async () => {
    const { app } = await server({ bodyLimit: 1_000, maxPendingEvents: 2 });
    const big = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: event('p1', { note: 'x'.repeat(2_000) }),
    });
    expect(big.statusCode).toBe(413);
    const many = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: [event('a'), event('b'), event('c')].join('\n'),
    });
    expect(many.statusCode).toBe(429);
    expect(many.headers['retry-after']).toBe('1');
  });

  it('answers 503 when the log cannot write, and never 5xx for what a client sent', async () => {
    const { app, log } = await server();
    await log.close();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/streams/payments/events',
      headers: { 'content-type': 'application/json' },
      payload: event('p1'),
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('TRIBUTARY_LOG_CLOSED');
  });

  it('counts a retried batch with the same Idempotency-Key once, also after a restart', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-http-'));
    const first = await server({ root });
    const send = (app: typeof first.app) =>
      app.inject({
        method: 'POST',
        url: '/v1/streams/payments/events',
        headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'batch-7' },
        payload: [event(null), event(null)].join('\n'),
      });
    const noIdsPlan = compileYaml(
      fraud
        .replace('    id: paymentId\n', '')
        .replace('required: [paymentId, customerId', 'required: [customerId'),
    );
    if (!noIdsPlan.ok) throw new Error(JSON.stringify(noIdsPlan.problems));
    await first.log.close();
    opened.splice(0);
    const withoutIds = await server({ root, plan: noIdsPlan.plan });
    const [a, b] = await Promise.all([send(withoutIds.app), send(withoutIds.app)]);
    expect([a.json().accepted, b.json().accepted]).toEqual([2, 2]);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']]).toContain('true');
    await withoutIds.log.close();
    opened.splice(0);
    const again = await server({ root, plan: noIdsPlan.plan });
    const retried = await send(again.app);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    let stored = 0;
    for (let p = 0; p < again.log.partitions('payments'); p++) stored += again.log.endOffset('payments', p);
    expect(stored).toBe(2);
  });
});
