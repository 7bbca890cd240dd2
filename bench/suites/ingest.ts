/**
 * Ingest: `file_events_per_s` (NDJSON file through validation, de-duplication and durable group commit, one
 * core), `http_events_per_s` (NDJSON batches of 1,000 over HTTP from a second process), `ack_p99_ms` (the p99
 * time to acknowledge a batch while a second process sends a steady 50,000 events/s), read against
 * `disk_sync_p99_ms` (the same durable writes made with no server) and `floor_ack_p99_ms` (the same load on a
 * bare server that only makes each body durable: what this machine's HTTP stack, disk and cores allow).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileYaml } from '../../src/definitions/yaml.js';
import { DEMO_DEFINITIONS } from '../../src/demo/payments.js';
import { ingestFile } from '../../src/ingest/file-ingest.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { startChild } from '../child.js';
import { diskSyncLatencies } from '../ingest/disk-floor.js';
import { percentile } from '../percentile.js';
import type { Metrics } from '../run.js';

const FILE_EVENTS = 1_000_000;
const run = promisify(execFile);

function ensureInput(path: string): void {
  if (existsSync(path)) return;
  const start = Date.now() - 7 * 86_400_000;
  const lines: string[] = [];
  for (let i = 0; i < FILE_EVENTS; i++) {
    lines.push(
      `{"paymentId":"f${i}","customerId":"c${i % 100_000}","merchantId":"m${i % 5_000}","ts":${start + i * 300},"amount":${100 + (i % 9_000)},"lat":48.8,"lon":2.3}`,
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export async function run_(log: (line: string) => void): Promise<Metrics> {
  const compiled = compileYaml(DEMO_DEFINITIONS);
  if (!compiled.ok) throw new Error('demo definitions');
  const plan = compiled.plan;
  const metrics: Metrics = {};
  const dataDir = new URL('../../../bench/data/', import.meta.url).pathname;
  mkdirSync(dataDir, { recursive: true });
  const input = join(dataDir, 'payments-1m.ndjson');
  log(`input: ${input} (${FILE_EVENTS.toLocaleString()} events; generated once)`);
  ensureInput(input);

  const fileRoot = mkdtempSync(join(tmpdir(), 'tributary-bench-ingest-'));
  const fileLog = await EmbeddedLog.open(fileRoot);
  const intake = await Intake.open(plan, fileLog);
  const begin = performance.now();
  let accepted = 0;
  await ingestFile(intake, 'payments', input, plan.streams.payments!.fields, {
    batchSize: 10_000,
    onBatch: ({ result }) => {
      accepted += result.accepted;
    },
  });
  const fileSeconds = (performance.now() - begin) / 1000;
  await fileLog.close();
  rmSync(fileRoot, { recursive: true, force: true });
  if (accepted !== FILE_EVENTS) throw new Error(`file ingest accepted ${accepted} of ${FILE_EVENTS}`);
  metrics.file_events_per_s = Math.round(FILE_EVENTS / fileSeconds);
  log(`file: ${FILE_EVENTS.toLocaleString()} events in ${fileSeconds.toFixed(1)} s`);

  const httpRoot = mkdtempSync(join(tmpdir(), 'tributary-bench-http-'));
  const server = await startChild<{ port: number }>('ingest/server-process', [httpRoot]);
  const url = `http://127.0.0.1:${server.port}/v1/streams/payments/events`;
  const client = new URL('../http-load.js', import.meta.url).pathname;
  try {
    const max = JSON.parse(
      (await run(process.execPath, [client, url, 'max', '400', '1000', '8'], { maxBuffer: 1 << 26 })).stdout,
    ) as { events: number; seconds: number; statuses: Record<string, number> };
    metrics.http_events_per_s = Math.round(max.events / max.seconds);
    log(
      `http: ${max.events.toLocaleString()} events in ${max.seconds.toFixed(1)} s, statuses ${JSON.stringify(max.statuses)}`,
    );
    // The disk's own p99 for the steady phase's durable writes: 100 batches/s of 500 stored events (~210 bytes
    // each: header, key, time wrapper and the payload), spread over the stream's 4 partitions.
    const floor = await diskSyncLatencies(httpRoot, 4, 500 * 210, 100, 10);
    metrics.disk_sync_p99_ms = Number(percentile(floor, 0.99).toFixed(2));
    metrics.disk_sync_p50_ms = Number(percentile(floor, 0.5).toFixed(2));
    log(`disk alone: ${floor.length} durable 4-partition writes of ${500 * 210} bytes at 100/s`);
    const steady = JSON.parse(
      (await run(process.execPath, [client, url, 'steady', '50000', '500', '10'], { maxBuffer: 1 << 26 }))
        .stdout,
    ) as { events: number; seconds: number; latenciesMs: number[]; statuses: Record<string, number> };
    metrics.ack_p99_ms = Number(percentile(steady.latenciesMs, 0.99).toFixed(2));
    metrics.ack_p50_ms = Number(percentile(steady.latenciesMs, 0.5).toFixed(2));
    metrics.steady_events_per_s = Math.round(steady.events / steady.seconds);
    log(
      `steady 50,000 events/s for 10 s: ${steady.events.toLocaleString()} acknowledged, statuses ${JSON.stringify(steady.statuses)}`,
    );
  } finally {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
  }
  // The same steady load against a server that only makes each body durable: the machine's own floor.
  const bare = await startChild<{ port: number }>('ingest/bare-server', [httpRoot]);
  try {
    const bareUrl = `http://127.0.0.1:${bare.port}/v1/streams/payments/events`;
    const steady = JSON.parse(
      (await run(process.execPath, [client, bareUrl, 'steady', '50000', '500', '10'], { maxBuffer: 1 << 26 }))
        .stdout,
    ) as { latenciesMs: number[] };
    metrics.floor_ack_p99_ms = Number(percentile(steady.latenciesMs, 0.99).toFixed(2));
    metrics.floor_ack_p50_ms = Number(percentile(steady.latenciesMs, 0.5).toFixed(2));
  } finally {
    const exited = new Promise((resolve) => bare.child.once('exit', resolve));
    bare.child.kill('SIGKILL');
    await exited;
    rmSync(httpRoot, { recursive: true, force: true });
  }
  return metrics;
}

export { run_ as run };
