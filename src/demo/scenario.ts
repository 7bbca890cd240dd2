/**
 * The demo's scenario, end to end on the embedded default: a project folder with the fraud definitions; payments
 * (late and retried sends, a few fraud rings, a few malformed events) ingested through the intake into the
 * durable log with their simulated arrival times; the online processor applying them; an HTTP server scoring
 * live payments with fresh vectors while new payments arrive; a checkpoint; a point-in-time training set of past
 * payments with fraud labels from the offline engine; and the proof that the as-served backfill reproduces every
 * vector served online.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Plan } from '../definitions/plan.js';
import type { Vector } from '../engine/core/view-engine.js';
import { backfill } from '../engine/offline/backfill.js';
import { OnlineProcessor } from '../engine/online/processor.js';
import { Intake } from '../ingest/intake.js';
import { EmbeddedLog } from '../log/embedded/embedded-log.js';
import { buildServer } from '../serving/server.js';
import { CheckpointStore } from '../state/checkpoint-store.js';
import { DEMO_DEFINITIONS, type DemoPayment, generatePayments } from './payments.js';

const DAY = 86_400_000;

export interface DemoReport {
  readonly dir: string;
  readonly plan: string;
  readonly payments: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly late: number;
  readonly rejected: Record<string, number>;
  readonly ingestEventsPerSecond: number;
  readonly applyEventsPerSecond: number;
  readonly live: number;
  readonly readP50Ms: number;
  readonly readP99Ms: number;
  readonly checkpointBytes: number;
  readonly trainingRows: number;
  readonly fraudRows: number;
  readonly backfillSeconds: number;
  readonly trainingFile: string;
  readonly reproduced: number;
  readonly separation: { feature: string; fraud: number; legitimate: number }[];
  readonly example: { payment: DemoPayment; vector: Vector } | null;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};

const request = (p: DemoPayment) => ({ amount: p.amount, lat: p.lat ?? 0, lon: p.lon ?? 0 });
const fieldsOf = (p: DemoPayment) => ({
  paymentId: p.paymentId,
  customerId: p.customerId,
  merchantId: p.merchantId,
  ts: p.ts,
  amount: p.amount,
  lat: p.lat,
  lon: p.lon,
});

function ndjson(rows: readonly unknown[]): string {
  return `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

export async function runDemoScenario(
  plan: Plan,
  options: { customers: number; days: number; dir: string; step: (text: string) => void },
): Promise<DemoReport> {
  const { dir, step } = options;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tributary.yaml'), DEMO_DEFINITIONS.trimStart());
  const start = Date.UTC(2026, 9, 1);
  step(
    `Generating ${options.days} days of payments for ${options.customers.toLocaleString('en-US')} customers…`,
  );
  const data = generatePayments({
    customers: options.customers,
    merchants: Math.max(50, Math.floor(options.customers / 8)),
    days: options.days,
    start,
    seed: 42,
  });
  const liveFrom = data.end - DAY / 4; // the last six hours arrive live, while the server scores them
  const history = data.payments.filter((p) => p.arrival < liveFrom);
  const live = data.payments.filter((p) => p.arrival >= liveFrom).slice(0, 1500);

  const log = await EmbeddedLog.open(join(dir, '.tributary', 'log'));
  let clock = start;
  const now = () => clock;
  const intake = await Intake.open(plan, log, { now });
  const checkpoints = new CheckpointStore(join(dir, '.tributary', 'state'));
  const processor = await OnlineProcessor.open({ plan, log, checkpoints, now });
  const app = await buildServer({ plan, log, intake, processor, now });
  try {
    await intake.ingest(
      'merchants',
      data.merchants.map((m) => ({ value: m })),
    );

    step(
      `Ingesting ${history.length.toLocaleString('en-US')} past payments through the contracts into the durable log…`,
    );
    const totals = { accepted: 0, duplicates: 0 };
    const rejected: Record<string, number> = {};
    let late = 0;
    let latest = Number.NEGATIVE_INFINITY;
    const ingestBegin = performance.now();
    // One request per 10 minutes of arrivals, stamped with the last arrival time among them.
    const slot = (p: DemoPayment) => Math.floor(p.arrival / 600_000);
    for (let i = 0; i < history.length; ) {
      let j = i;
      while (j < history.length && slot(history[j]!) === slot(history[i]!)) j++;
      const batch = history.slice(i, j);
      clock = batch[batch.length - 1]!.arrival;
      for (const p of batch) {
        if (p.ts < latest) late++;
        latest = Math.max(latest, p.ts);
      }
      const result = await intake.ingest(
        'payments',
        batch.map((p) => ({ value: fieldsOf(p) })),
      );
      totals.accepted += result.accepted;
      totals.duplicates += result.duplicates;
      i = j;
    }
    // A producer's mistakes: kept in the dead letters with their reasons, never in a feature.
    const malformed = await intake.ingest('payments', [
      { text: '{"paymentId": "bad-1", "merchantId": "m1", "ts": 1790000000000, "amount": 5}' },
      {
        text: '{"paymentId": "bad-2", "customerId": "c1", "merchantId": "m1", "ts": "2026-10-14T10:00:00", "amount": 5}',
      },
      {
        text: '{"paymentId": "bad-3", "customerId": "c1", "merchantId": "m1", "ts": 1790000000000, "amount": "5 EUR"}',
      },
      { text: '{"paymentId": "bad-4", "customerId": "c1",' },
    ]);
    for (const r of malformed.rejected) rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
    const ingestSeconds = (performance.now() - ingestBegin) / 1000;

    step('Applying the log to the online state…');
    const applyBegin = performance.now();
    await processor.catchUp();
    const applySeconds = (performance.now() - applyBegin) / 1000;
    processor.start();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${address.port}`;

    step(
      `Serving: ${live.length.toLocaleString('en-US')} new payments arrive over HTTP; each is scored with a fresh vector first…`,
    );
    const latencies: number[] = [];
    const served: { payment: DemoPayment; at: number; vector: Vector }[] = [];
    let previous = clock;
    for (const p of live) {
      // The decision is made when the payment arrives: a read as of now, then the payment is acknowledged.
      clock = Math.max(p.arrival, previous + 1);
      const begin = performance.now();
      const response = await fetch(`${base}/v1/views/fraud/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          consistent: true,
          rows: [{ keys: { customer: p.customerId, merchant: p.merchantId }, request: request(p) }],
        }),
      });
      const body = (await response.json()) as { vectors: { at: number; features: Vector }[] };
      latencies.push(performance.now() - begin);
      if (!response.ok) throw new Error(`the demo's read failed: ${JSON.stringify(body)}`);
      served.push({ payment: p, at: body.vectors[0]!.at, vector: body.vectors[0]!.features });
      clock += 1;
      previous = clock;
      const ack = await fetch(`${base}/v1/streams/payments/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fieldsOf(p)),
      });
      const result = (await ack.json()) as { accepted: number; duplicates: number };
      totals.accepted += result.accepted;
      totals.duplicates += result.duplicates;
    }
    await processor.catchUp();
    const checkpointBytes = await processor.checkpoint();
    await app.close();
    await processor.stop();

    step('Backfilling a point-in-time training set of past payments, with their fraud labels…');
    const spine = join(dir, 'past-payments.ndjson');
    const past = history.filter((p, i) => p.fraud || i % 4 === 0);
    writeFileSync(
      spine,
      ndjson(
        past.map((p) => ({
          paymentId: p.paymentId,
          customerId: p.customerId,
          merchantId: p.merchantId,
          ts: p.ts,
          ...request(p),
          fraud: p.fraud,
        })),
      ),
    );
    const trainingFile = join(dir, 'training.parquet');
    const summary = await backfill({
      plan,
      view: 'fraud',
      spine,
      out: trainingFile,
      history: { kind: 'log', log },
    });

    step('Checking that the offline engine reproduces every vector served online (the as-served view)…');
    const servedSpine = join(dir, 'served.ndjson');
    writeFileSync(
      servedSpine,
      ndjson(
        served.map((s) => ({
          customerId: s.payment.customerId,
          merchantId: s.payment.merchantId,
          ts: s.at,
          ...request(s.payment),
        })),
      ),
    );
    const servedOut = join(dir, 'served-offline.ndjson');
    await backfill({
      plan,
      view: 'fraud',
      spine: servedSpine,
      out: servedOut,
      history: { kind: 'log', log },
      asServed: true,
      workers: 0,
    });
    const offline = readFileSync(servedOut, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    let reproduced = 0;
    served.forEach((s, i) => {
      const row = offline[i]!;
      const same = Object.entries(s.vector).every(([name, value]) => agree(value, row[name]));
      if (same) reproduced++;
    });

    return {
      dir,
      plan: plan.hash,
      payments: data.payments.length,
      accepted: totals.accepted,
      duplicates: totals.duplicates,
      late,
      rejected,
      ingestEventsPerSecond: Math.round(history.length / ingestSeconds),
      applyEventsPerSecond: Math.round(processor.status().applied / Math.max(applySeconds, 1e-3)),
      live: live.length,
      readP50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      readP99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
      checkpointBytes,
      trainingRows: summary.rows,
      fraudRows: past.filter((p) => p.fraud).length,
      backfillSeconds: Number(summary.seconds.toFixed(2)),
      trainingFile,
      reproduced,
      separation: await separation(trainingFile, ['count_10m', 'merchants_1d', 'distance_km', 'amount_z']),
      example: served.find((s) => s.payment.fraud) ?? served[0] ?? null,
    };
  } finally {
    await app.close();
    await processor.stop();
    await log.close();
  }
}

/** Numbers agree to rounding in the JSON text; everything else exactly. */
function agree(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => agree(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object')
    return Object.keys(a).every((k) =>
      agree((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    );
  return (a ?? null) === (b ?? null);
}

/** Mean of each feature over fraud and legitimate rows of the training set. */
async function separation(file: string, features: readonly string[]) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT fraud, ${features.map((f) => `avg("${f}")::DOUBLE AS "${f}"`).join(', ')} FROM read_parquet('${file.replaceAll("'", "''")}') GROUP BY fraud`,
    );
    const rows = reader.getRowObjects() as Record<string, unknown>[];
    const of = (fraud: boolean, f: string) => Number(rows.find((r) => r.fraud === fraud)?.[f] ?? 0);
    return features.map((feature) => ({ feature, fraud: of(true, feature), legitimate: of(false, feature) }));
  } finally {
    connection.closeSync();
  }
}
