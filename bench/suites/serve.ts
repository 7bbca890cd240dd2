/**
 * The online engine and server under load (issue: online engine and serving). The fraud20 group over
 * BENCH_SERVE_CUSTOMERS customers (default 1M) and BENCH_SERVE_EVENTS events (default 20M) spread over 30 days,
 * written once to bench/data/. A server process builds its state from the log (apply_events_per_s, then its RSS),
 * then is loaded with random customers as of the latest event time:
 * - one vector per GET at a fixed 10k requests/s over 8 connections, on an open-loop schedule, from a second
 *   process (bench/open-loop-reads.c, compiled on first use: it needs a C compiler), after a warm-up at the same
 *   rate. read_p99_ms_at_10k_rps is timed from the moment each request was due, so that waiting for a busy server
 *   counts; read_p99_from_send_ms_at_10k_rps from the moment it was written; server_read_p99_ms_at_10k_rps,
 *   request to response inside the server, from its own histogram; server_cpu_us_per_get_at_10k, the server
 *   process's CPU time (all threads, and the kernel's work for it) per request; generator_cpu_us_per_get_at_10k,
 *   the load generator's (it sleeps between requests, so that the server has a core to itself);
 *   late_wakeups_per_s_at_10k, how many of the generator's waits a second ended over 1 ms late (this VM's own
 *   stalls, which the server's threads meet too);
 * - floor_p99_ms_at_10k_rps, floor_cpu_us_per_get_at_10k and floor_late_wakeups_per_s_at_10k, right after: a
 *   bare fastify server answering a fixed vector, loaded the same way: what this machine's HTTP stack and load
 *   generator cost on their own, in about the same conditions;
 * - GETs as fast as they go (get_vectors_per_s), batches of 100 keys as fast as they go (vectors_per_s), both
 *   with autocannon;
 * - 5k reads/s while 10k events/s are ingested (freshness_p99_ms, from the server's freshness histogram);
 * - GETs at 10k requests/s again, open loop, while the server writes a checkpoint of its state (as `tributary
 *   serve` does every minute when it applied something): read_p99_ms_at_10k_rps_checkpointing and its p999 and
 *   max over the phase, checkpoint_s, checkpoint_bytes, and checkpoint_event_loop_max_ms, the longest the
 *   server's event loop was held meanwhile;
 * The ingested events stay in the cached log: each run adds 100k events to it (apply_events_per_s counts what
 * the server applied), until ensureLog writes it afresh.
 */

import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import type { AppendRecord } from '../../src/log/log.js';
import { startChild } from '../child.js';
import { seededRandom } from '../fraud20.js';
import { nativeTool } from '../native.js';
import type { Metrics } from '../run.js';

const execFileAsync = promisify(execFile);

const CUSTOMERS = Number(process.env.BENCH_SERVE_CUSTOMERS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_SERVE_EVENTS ?? 20_000_000);
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const DAY = 86_400_000;

/**
 * Each run ingests 100k events into the cached log (the freshness phase). Past this many beyond EVENTS, or when
 * the log is older than a day (reads are as of its latest event, and its 30 days would slide out of the windows),
 * it is written afresh: the state stays the EVENTS over 30 days, not a log that grows run by run (it had
 * grown to 29.2M events, and the same 100k customers got a new payment in every run). Counting opens the log:
 * ~3 s at 20M events.
 */
const MAX_INGESTED = EVENTS / 20;
const MAX_AGE_MS = DAY;

/** The events the log at `dir` holds, over every partition of its stream. */
async function eventsIn(dir: string): Promise<number> {
  const events = await EmbeddedLog.open(dir);
  try {
    let count = 0;
    for (let p = 0; p < events.partitions('payments'); p++) count += events.endOffset('payments', p);
    return count;
  } finally {
    await events.close();
  }
}

async function ensureLog(dir: string, log: (line: string) => void): Promise<void> {
  const ready = join(dir, 'ready');
  if (existsSync(ready)) {
    const count = await eventsIn(dir);
    const age = Date.now() - statSync(ready).mtimeMs;
    if (count <= EVENTS + MAX_INGESTED && age <= MAX_AGE_MS) return;
    log(
      `the cached log holds ${count.toLocaleString('en-US')} events and was written ${(age / 3_600_000).toFixed(1)} h ago: writing it afresh`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
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
  writeFileSync(join(dir, 'ready'), '');
}

function startServer(dir: string) {
  return startChild<{
    port: number;
    applySeconds: number;
    applied: number;
    rss: number;
    latestEventTime: number;
  }>('serve/server-process', [dir], ['--expose-gc', '--max-old-space-size=8192']);
}

const randomCustomer = (random: () => number) => `c${Math.floor(CUSTOMERS * random() ** 1.5)}`;

/**
 * One vector per GET for random customers, as of `at` (the latest event time; omitted: now), at a fixed `rate`
 * of requests/s or as fast as they go.
 */
function randomReads(
  port: number,
  options: { rate?: number; connections: number; at?: number; seconds?: number },
) {
  const random = seededRandom(9);
  const query = options.at === undefined ? '' : `?at=${options.at}`;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: options.connections,
    duration: options.seconds ?? SECONDS,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'GET',
        setupRequest: (request: autocannon.Request) => {
          request.path = `/v1/views/fraud20/${randomCustomer(random)}${query}`;
          return request;
        },
      },
    ],
  });
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

interface OpenLoopResult {
  readonly requests: number;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
  readonly fromDue: Percentiles;
  readonly fromSend: Percentiles;
  readonly serverCpuUsPerRequest: number | null;
  readonly generatorCpuUsPerRequest: number;
  /** The generator's sleeps a second that ended over 1 ms late: the machine's own stalls during the run. */
  readonly lateWakeUpsPerSecond: number;
}

/**
 * GETs of one vector at a fixed rate on an open-loop schedule, from a second process (autocannon's rate mode
 * sends each connection's quota for the second as fast as it can, then idles: a saturated burst, not a rate).
 */
async function openLoopReads(
  server: { port: number; child: ChildProcess },
  rate: number,
  at: number,
): Promise<OpenLoopResult> {
  const args = [
    String(server.port),
    String(server.child.pid),
    String(rate),
    String(Math.min(SECONDS, 3)),
    String(SECONDS),
    '8',
    String(CUSTOMERS),
    String(at),
    '9',
  ];
  const { stdout } = await execFileAsync(nativeTool('open-loop-reads'), args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as OpenLoopResult;
}

/** Vectors of BATCH_KEYS random customers per POST /v1/views/fraud20/batch, as fast as they go. */
const BATCH_KEYS = 100;
function randomBatchReads(port: number, at: number) {
  const random = seededRandom(10);
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 8,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/v1/views/fraud20/batch',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request: autocannon.Request) => {
          const rows = Array.from({ length: BATCH_KEYS }, () => ({
            keys: { customer: randomCustomer(random) },
            at,
          }));
          request.body = JSON.stringify({ rows });
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

interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** The cumulative buckets of a Prometheus histogram in the exposition text (the series whose labels match). */
function histogramBuckets(text: string, name: string, labels = ''): Bucket[] {
  return [...text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\d+)`, 'gm'))]
    .filter((m) => m[1]!.includes(labels))
    .map((m) => {
      const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
      return { le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: Number(m[2]) };
    });
}

/** p99 of a Prometheus histogram in the exposition text, interpolated within its bucket. */
function histogramP99(text: string, name: string): number {
  return bucketsP99(histogramBuckets(text, name));
}

/** p99 of cumulative buckets, interpolated within the bucket it falls in. */
function bucketsP99(buckets: readonly Bucket[]): number {
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
    // Reads as of the latest event time: the log may have been written a while ago (it is cached), and reads at
    // `now` would then find the short windows empty.
    const at = server.latestEventTime + 1;
    // A server that just started has cold code and entities whose indexes no read has built yet: warm it first,
    // as a running service is.
    log(`warm-up: GET reads at 10,000 requests/s for ${SECONDS} s (not measured)…`);
    await openLoopReads(server, 10_000, at);
    log(`GET reads at 10,000 requests/s over 8 connections for ${SECONDS} s, open loop…`);
    // The server's own read-latency histogram, before and after: its p99 over this phase alone (its first seconds,
    // which warm the load generator up, included).
    const route = 'route="/v1/views/:view/:key"';
    const readBuckets = async () =>
      histogramBuckets(
        await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text(),
        'tributary_read_seconds',
        route,
      );
    const bucketsBefore = await readBuckets();
    const fixed = await openLoopReads(server, 10_000, at);
    const bucketsAfter = await readBuckets();
    const serverP99 = bucketsP99(
      bucketsAfter.map((b, i) => ({ le: b.le, count: b.count - (bucketsBefore[i]?.count ?? 0) })),
    );
    // Right after, while the machine is as noisy as it was for ours: how much of this machine's tail is its own.
    log(`the floor: a bare fastify server answering a fixed vector, GETs at 10,000 requests/s…`);
    const bare = await startChild<{ port: number }>('serve/bare-server', []);
    let floor: OpenLoopResult;
    try {
      floor = await openLoopReads(bare, 10_000, at);
    } finally {
      bare.child.kill('SIGKILL');
    }
    log(`GET reads as fast as they go for ${SECONDS} s…`);
    const max = await randomReads(server.port, { connections: 64, at });
    log(`batch reads (${BATCH_KEYS} keys each) as fast as they go for ${SECONDS} s…`);
    const batches = await randomBatchReads(server.port, at);
    log(`5,000 reads/s while ingesting 10,000 events/s for ${SECONDS} s…`);
    const [mixedReads, ingest] = await Promise.all([
      randomReads(server.port, { rate: 5_000, connections: 8 }),
      ingestLoad(server.port, 10_000),
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    log(`GET reads at 10,000 requests/s while the server writes a checkpoint…`);
    // The checkpoint starts a second into the measured part of the phase (after the generator's warm-up).
    const [checkpointing, checkpoint] = await Promise.all([
      openLoopReads(server, 10_000, at),
      new Promise((resolve) => setTimeout(resolve, (Math.min(SECONDS, 3) + 1) * 1000)).then(
        async () =>
          (await (
            await fetch(`http://127.0.0.1:${server.port}/bench/checkpoint`, { method: 'POST' })
          ).json()) as { bytes: number; seconds: number; eventLoopMaxMs: number },
      ),
    ]);
    log(
      `  checkpoint: ${(checkpoint.bytes / 1e6).toFixed(0)} MB in ${checkpoint.seconds.toFixed(1)} s; event loop held ≤ ${checkpoint.eventLoopMaxMs.toFixed(0)} ms`,
    );
    const notOk = (r: OpenLoopResult) => r.requests - (r.statuses['200'] ?? 0);
    const errors =
      notOk(fixed) +
      notOk(floor) +
      notOk(checkpointing) +
      max.non2xx +
      batches.non2xx +
      mixedReads.non2xx +
      ingest.non2xx +
      max.errors +
      batches.errors;
    return {
      customers: CUSTOMERS,
      events: EVENTS,
      apply_events_per_s: server.applied / server.applySeconds,
      [CUSTOMERS === 1_000_000 ? 'rss_bytes_1m_entities' : `rss_bytes_${CUSTOMERS}_entities`]: server.rss,
      read_p99_ms_at_10k_rps: fixed.fromDue.p99,
      read_p50_ms_at_10k_rps: fixed.fromDue.p50,
      read_p999_ms_at_10k_rps: fixed.fromDue.p999,
      read_p99_from_send_ms_at_10k_rps: fixed.fromSend.p99,
      server_read_p99_ms_at_10k_rps: serverP99 * 1000,
      achieved_rps_at_10k: fixed.requests / fixed.seconds,
      server_cpu_us_per_get_at_10k: fixed.serverCpuUsPerRequest ?? Number.NaN,
      generator_cpu_us_per_get_at_10k: fixed.generatorCpuUsPerRequest,
      floor_p99_ms_at_10k_rps: floor.fromDue.p99,
      floor_p99_from_send_ms_at_10k_rps: floor.fromSend.p99,
      floor_cpu_us_per_get_at_10k: floor.serverCpuUsPerRequest ?? Number.NaN,
      late_wakeups_per_s_at_10k: fixed.lateWakeUpsPerSecond,
      floor_late_wakeups_per_s_at_10k: floor.lateWakeUpsPerSecond,
      vectors_per_s: batches.requests.average * BATCH_KEYS,
      get_vectors_per_s: max.requests.average,
      batch_p99_ms: batches.latency.p99,
      freshness_p99_ms: histogramP99(metrics, 'tributary_freshness_seconds') * 1000,
      ingested_events_per_s: ingest.requests.average * 100,
      reads_per_s_while_ingesting: mixedReads.requests.average,
      read_p99_ms_at_10k_rps_checkpointing: checkpointing.fromDue.p99,
      read_p999_ms_at_10k_rps_checkpointing: checkpointing.fromDue.p999,
      read_max_ms_at_10k_rps_checkpointing: checkpointing.fromDue.max,
      checkpoint_s: checkpoint.seconds,
      checkpoint_bytes: checkpoint.bytes,
      checkpoint_event_loop_max_ms: checkpoint.eventLoopMaxMs,
      failed_requests: errors,
    };
  } finally {
    server.child.kill('SIGKILL');
  }
}
