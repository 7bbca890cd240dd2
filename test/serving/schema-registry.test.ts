/**
 * The schema registry: its rules through the embedded registry, tributary.yaml as the source of truth, and the
 * Confluent-compatible HTTP API proven with an existing client library (@kafkajs/confluent-schema-registry)
 * against a listening server.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry as ConfluentClient, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry, subjectOf } from '../../src/contracts/registry.js';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';

const fraud = readFileSync(new URL('../fixtures/fraud.yaml', import.meta.url), 'utf8');
const planOf = (yaml: string) => {
  const r = compileYaml(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
};

describe('tributary.yaml as the source of truth', () => {
  it('registers a compatible change as a new version and refuses an incompatible one with reasons', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tributary-registry-')), 'registry.json');
    const registry = SchemaRegistry.open(path);
    expect(registry.syncFromPlan(planOf(fraud)).registered.map((r) => [r.subject, r.version])).toEqual([
      ['payments-value', 1],
    ]);
    expect(registry.syncFromPlan(planOf(fraud)).registered).toEqual([]); // unchanged: no new version
    const widened = fraud.replace(
      'lat: { type: [number, "null"] }',
      'lat: { type: [number, string, "null"] }',
    );
    expect(registry.syncFromPlan(planOf(widened)).registered.map((r) => r.version)).toEqual([2]);
    const requiredMore = widened.replace(
      'required: [paymentId, customerId, merchantId, ts, amount]',
      'required: [paymentId, customerId, merchantId, ts, amount, lat]',
    );
    const refused = SchemaRegistry.open(path).syncFromPlan(planOf(requiredMore)).refused;
    expect(refused).toEqual([
      { stream: 'payments', problems: [expect.stringContaining('lat: now required')] },
    ]);
    expect(SchemaRegistry.open(path).versions(subjectOf('payments'))).toEqual([1, 2]); // persisted, nothing added
  });
});

describe('the Confluent-compatible API', () => {
  let log: EmbeddedLog;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let base: string;
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-registry-http-'));
    log = await EmbeddedLog.open(join(root, 'log'));
    const plan = planOf(fraud);
    const registry = SchemaRegistry.open(join(root, 'registry.json'));
    registry.syncFromPlan(plan);
    app = await buildServer({ plan, log, intake: await Intake.open(plan, log), registry });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/schema-registry`;
  });
  afterAll(async () => {
    await app.close();
    await log.close();
  });

  it('registers, checks and fetches schemas with @kafkajs/confluent-schema-registry', async () => {
    const client = new ConfluentClient({ host: base });
    const v1 = {
      type: 'record',
      name: 'Refund',
      namespace: 'tributary',
      fields: [
        { name: 'refundId', type: 'string' },
        { name: 'amount', type: 'double' },
      ],
    };
    const { id } = await client.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(v1) },
      { subject: 'refunds-value' },
    );
    expect(await client.getLatestSchemaId('refunds-value')).toBe(id);
    const encoded = await client.encode(id, { refundId: 'r1', amount: 12.5 });
    expect(await client.decode(encoded)).toEqual({ refundId: 'r1', amount: 12.5 });
    // A compatible evolution (a field with a default) gets a new id; an incompatible one is refused.
    const v2 = { ...v1, fields: [...v1.fields, { name: 'reason', type: ['null', 'string'], default: null }] };
    const second = await client.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(v2) },
      { subject: 'refunds-value' },
    );
    expect(second.id).not.toBe(id);
    const v3 = { ...v1, fields: [...v1.fields, { name: 'channel', type: 'string' }] };
    await expect(
      client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v3) }, { subject: 'refunds-value' }),
    ).rejects.toThrow(/incompatible/);
    // The stream's JSON Schema, registered from tributary.yaml, is there too.
    const latest = await client.getLatestSchemaId(subjectOf('payments'));
    const payment = { paymentId: 'p1', customerId: 'c1', merchantId: 'm1', ts: 1767225600000, amount: 1250 };
    expect(await client.decode(await client.encode(latest, payment))).toEqual(payment);
    await expect(client.encode(latest, { ...payment, amount: 'lots' })).rejects.toThrow(); // validated by our schema
  });

  it('answers compatibility checks, config and errors as Confluent does', async () => {
    const json = (path: string, init?: RequestInit) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      }).then(async (r) => [r.status, await r.json()] as const);
    expect(await json('/subjects')).toEqual([
      200,
      expect.arrayContaining(['payments-value', 'refunds-value']),
    ]);
    expect(await json('/config/payments-value')).toEqual([200, { compatibilityLevel: 'BACKWARD' }]);
    const schema = JSON.stringify({ type: 'object', properties: { paymentId: { type: 'integer' } } });
    const [status, check] = await json('/compatibility/subjects/payments-value/versions/latest', {
      method: 'POST',
      body: JSON.stringify({ schema, schemaType: 'JSON' }),
    });
    expect(status).toBe(200);
    expect(check.is_compatible).toBe(false);
    expect(await json('/subjects/nope-value/versions')).toEqual([
      404,
      { error_code: 40401, message: expect.any(String) },
    ]);
    expect(await json('/schemas/ids/999')).toEqual([404, { error_code: 40403, message: 'Schema not found' }]);
    expect(
      await json('/config', { method: 'PUT', body: JSON.stringify({ compatibility: 'SIDEWAYS' }) }),
    ).toEqual([422, expect.objectContaining({ error_code: 42203 })]);
    expect(
      await json('/config/refunds-value', { method: 'PUT', body: JSON.stringify({ compatibility: 'NONE' }) }),
    ).toEqual([200, { compatibility: 'NONE' }]);
  });
});
