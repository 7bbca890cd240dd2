/**
 * The decoder thread: a long backlog is parsed on a second thread and applied as columns. Its vectors must equal
 * those of the same log applied event by event on one thread, with nulls, missing fields, number keys, late
 * events and values of the wrong type in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { seededRandom } from '../../src/demo/random.js';
import { StoredEventDecoder } from '../../src/engine/online/decoder.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-decoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const YAML = `
entities:
  customer: { key: customerId }
streams:
  payments:
    keys: { customer: customerId }
    time: ts
    id: paymentId
    schema:
      type: object
      properties:
        paymentId: { type: string }
        customerId: { type: [string, integer] }
        merchantId: { type: [string, "null"] }
        ts: { type: integer }
        amount: { type: [number, "null"] }
features:
  g:
    stream: payments
    entity: customer
    aggregations:
      n_1h: { fn: count, window: 1h }
      total: { fn: sum, field: amount }
      mean_1d: { fn: mean, field: amount, window: 1d }
      spread: { fn: stddev, field: amount, window: 1d }
      merchants: { fn: countDistinct, field: merchantId, window: 1d }
      last: { fn: last, fields: [amount, merchantId] }
      last3: { fn: lastK, field: merchantId, k: 3 }
views:
  v: { entity: customer, features: [g.*] }
`;

describe('the decoder thread', () => {
  it('applies a long backlog exactly as one thread does', async () => {
    const compiled = compileYaml(YAML);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    const plan = compiled.plan;
    const log = await EmbeddedLog.open(join(dir, 'log'));
    const random = seededRandom(3);
    const T0 = Date.UTC(2026, 0, 1);
    const events = 120_000; // every partition is behind by more than the decoder's threshold
    const batch = [];
    for (let i = 0; i < events; i++) {
      const customer = i % 7 === 0 ? Math.floor(random() * 50) : `c${Math.floor(random() * 300)}`;
      const late = random() < 0.05 ? Math.floor(random() * 3_600_000) : 0;
      const t = T0 + i * 1_000 - late;
      const f: Record<string, unknown> = { paymentId: `p${i}`, customerId: customer, ts: t };
      if (random() < 0.9) f.amount = random() < 0.05 ? null : Math.round(random() * 10_000) / 100;
      if (random() < 0.9) f.merchantId = random() < 0.05 ? null : `m${Math.floor(random() * 40)}`;
      if (random() < 0.01) f.amount = 'not a number';
      batch.push({
        key: String(customer),
        arrivalTime: T0 + i * 1_000,
        value: Buffer.from(JSON.stringify({ t, f })),
      });
    }
    await log.append('payments', batch);
    const threaded = await OnlineProcessor.open({ plan, log });
    await threaded.catchUp();
    const single = await OnlineProcessor.open({ plan, log, decoderThread: false });
    await single.catchUp();
    expect(threaded.decodedOffThread).toBe(events);
    expect(single.decodedOffThread).toBe(0);
    expect(threaded.status()).toMatchObject({ behind: 0, applied: events });
    const end = T0 + events * 1_000;
    for (const at of [end, end - 1_800_000]) {
      for (const customer of [...Array.from({ length: 300 }, (_, c) => `c${c}`), '7', '49', 'nobody']) {
        expect(threaded.read('v', { customer }, at)).toEqual(single.read('v', { customer }, at));
      }
    }
    await threaded.stop();
    await single.stop();
    await log.close();
  });

  it('refuses a batch with a record that fails its checksum, saying so', async () => {
    const log = await EmbeddedLog.open(join(dir, 'corrupt'), { partitions: 1 });
    await log.append(
      'payments',
      Array.from({ length: 100 }, (_, i) => ({
        key: 'c1',
        arrivalTime: i,
        value: Buffer.from(JSON.stringify({ t: i, f: { customerId: 'c1', amount: i } })),
      })),
    );
    const decoder = new StoredEventDecoder({
      streams: { payments: { numeric: ['amount'], values: ['customerId'] } },
    });
    const whole = (await log.readBytes('payments', 0, 10, 1 << 20))!;
    const columns = await decoder.decode('payments', whole, 10);
    expect(Array.from(columns.numeric.amount!)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
    expect(Array.from(columns.seqs)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
    const flipped = (await log.readBytes('payments', 0, 0, 1 << 20))!;
    flipped.bytes[flipped.bytes.length - 2]! ^= 1;
    await expect(decoder.decode('payments', flipped, 0)).rejects.toMatchObject({
      code: 'TRIBUTARY_LOG_CORRUPT',
      message: expect.stringContaining('fails its checksum'),
    });
    await decoder.close();
    await log.close();
  });
});
