/**
 * The online engine and server under load (issue: online engine and serving). The fraud20 group over
 * BENCH_SERVE_CUSTOMERS customers (default 1M) and BENCH_SERVE_EVENTS events (default 20M) spread over 30 days,
 * written once to bench/data/. A server process builds its state from the log (apply_events_per_s, then its RSS),
 * and autocannon, in this process, loads it: one vector per request for random customers at the latest time at
 * a fixed 10k requests/s (read_p99_ms_at_10k_rps), as fast as it goes (vectors_per_s), and 5k reads/s while
 * 10k events/s are ingested (freshness_p99_ms, from the server's freshness histogram).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import type { AppendRecord } from '../../src/log/log.js';
import { seededRandom } from '../fraud20.js';
import type { Metrics } from '../run.js';

const CUSTOMERS = Number(process.env.BENCH_SERVE_CUSTOMERS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_SERVE_EVENTS ?? 20_000_000);
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const DAY = 86_400_000;

async function ensureLog(dir: string, log: (line: string) => void): Promise<void> {
  if (existsSync(join(dir, 'ready'))) return;
  log(
    `writing ${EVENTS.toLocaleString('en-US')} events of ${CUSTOMERS.toLocaleString('en-US')} customers to ${dir}…`,
  );
  const events = await EmbeddedLog.open(dir);
  const random = seededRandom(5);
  const end = Date.now() - 60_000;
  const start = end - 30 * DAY;
  const batch: AppendRecord[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const time = start + Math.floor((i / EVENTS) * 30 * DAY);
    const customer = `c${Math.floor(CUSTOMERS * random() ** 1.5)}`;
    const f = {
      paymentId: `p${i}`,
      customerId: customer,
      merchantId: `m${Math.floor(10_000 * random() ** 2)}`,
      ts: time,
      amount: 100 + Math.floor(random() * 50_000),
    };
    batch.push({
      key: customer,
      arrivalTime: time + 200,
      value: Buffer.from(JSON.stringify({ t: time, f })),
    });
    if (batch.length === 50_000) {
      await events.append('payments', batch);
      batch.length = 0;
      if (i % 1_000_000 === 999_999) log(`  ${(i + 1).toLocaleString('en-US')}`);
    }
  }
  if (batch.length) await events.append('payments', batch);
  await events.close();
  (await import('node:fs')).writeFileSync(join(dir, 'ready'), '');
}

function startServer(
  dir: string,
): Promise<{ child: ChildProcess; port: number; applySeconds: number; applied: number; rss: number }> {
  const script = new URL('../serve/server-process.js', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', script, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...JSON.parse(line) });
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
}

function randomReads(port: number, rate?: number, connections = 32) {
  const random = seededRandom(9);
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: SECONDS,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'GET',
        setupRequest: (request: autocannon.Request) => {
          request.path = `/v1/views/fraud20/c${Math.floor(CUSTOMERS * random() ** 1.5)}`;
          return request;
        },
      },
    ],
  });
}

let ingested = 0;
function ingestLoad(port: number, eventsPerSecond: number) {
  const perRequest = 100;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 4,
    duration: SECONDS,
    overallRate: eventsPerSecond / perRequest,
    requests: [
      {
        method: 'POST',
        path: '/v1/streams/payments/events',
        headers: { 'content-type': 'application/x-ndjson' },
        setupRequest: (request: autocannon.Request) => {
          const now = Date.now();
          request.body = Array.from({ length: perRequest }, () => {
            const i = ingested++;
            return JSON.stringify({
              paymentId: `live${i}`,
              customerId: `c${i % CUSTOMERS}`,
              merchantId: 'm1',
              ts: now,
              amount: 100,
            });
          }).join('\n');
          return request;
        },
      },
    ],
  });
}

/** p99 of a Prometheus histogram in the exposition text, interpolated within its bucket. */
function histogramP99(text: string, name: string): number {
  const buckets = [
    ...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)`, 'gm')),
  ].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const target = 0.99 * total;
  let previous = { le: 0, count: 0 };
  for (const b of buckets) {
    if (b.count >= target) {
      if (!Number.isFinite(b.le)) return previous.le;
      return (
        previous.le +
        ((target - previous.count) / Math.max(1, b.count - previous.count)) * (b.le - previous.le)
      );
    }
    previous = b;
  }
  return Number.NaN;
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  const dir = join(process.cwd(), 'bench', 'data', `serve-${CUSTOMERS}-${EVENTS}`);
  await ensureLog(dir, log);
  log('server: building the online state from the log…');
  const server = await startServer(dir);
  try {
    log(
      `  ${server.applied.toLocaleString('en-US')} events in ${server.applySeconds.toFixed(1)} s; RSS ${(server.rss / 1e9).toFixed(2)} GB`,
    );
    log(`reads at 10,000 requests/s for ${SECONDS} s…`);
    const fixed = await randomReads(server.port, 10_000);
    log(`reads as fast as they go for ${SECONDS} s…`);
    const max = await randomReads(server.port, undefined, 64);
    log(`5,000 reads/s while ingesting 10,000 events/s for ${SECONDS} s…`);
    const [mixedReads, ingest] = await Promise.all([
      randomReads(server.port, 5_000, 16),
      ingestLoad(server.port, 10_000),
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    const errors = fixed.non2xx + max.non2xx + mixedReads.non2xx + ingest.non2xx + fixed.errors + max.errors;
    return {
      customers: CUSTOMERS,
      events: EVENTS,
      apply_events_per_s: server.applied / server.applySeconds,
      [CUSTOMERS === 1_000_000 ? 'rss_bytes_1m_entities' : `rss_bytes_${CUSTOMERS}_entities`]: server.rss,
      read_p99_ms_at_10k_rps: fixed.latency.p99,
      achieved_rps_at_10k: fixed.requests.average,
      vectors_per_s: max.requests.average,
      freshness_p99_ms: histogramP99(metrics, 'tributary_freshness_seconds') * 1000,
      ingested_events_per_s: ingest.requests.average * 100,
      reads_per_s_while_ingesting: mixedReads.requests.average,
      failed_requests: errors,
    };
  } finally {
    server.child.kill('SIGKILL');
  }
}
