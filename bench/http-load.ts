/**
 * The ingest benchmark's load generator, run as a second process: NDJSON batches of payments over HTTP.
 *   node http-load.js <url> max <batches> <batchSize> <concurrency>   → as fast as the server answers
 *   node http-load.js <url> steady <eventsPerSecond> <batchSize> <seconds>   → an open-loop steady rate
 * Prints one JSON line: { events, seconds, latenciesMs, statuses }.
 */
import { Agent, request as httpRequest } from 'node:http';

const [url, mode, a, b, c] = process.argv.slice(2) as [string, 'max' | 'steady', string, string, string];
const runId = Math.random().toString(36).slice(2, 8);
let next = 0;
const start = Date.now() - 60_000;

function batch(size: number): string {
  const lines: string[] = [];
  for (let i = 0; i < size; i++) {
    const n = next++;
    lines.push(
      `{"paymentId":"${runId}-${n}","customerId":"c${n % 100_000}","merchantId":"m${n % 5_000}","ts":${start + (n % 60_000)},"amount":${100 + (n % 9_000)},"lat":48.8,"lon":2.3}`,
    );
  }
  return lines.join('\n');
}

const latencies: number[] = [];
const statuses: Record<number, number> = {};
let events = 0;

// node:http with kept-alive sockets: fetch's own overhead showed up in the measured tail.
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const target = new URL(url);

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        agent,
        method: 'POST',
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function send(body: string, size: number): Promise<void> {
  const begin = performance.now();
  const status = await post(body);
  latencies.push(performance.now() - begin);
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status === 200) events += size;
}

const begin = performance.now();
if (mode === 'max') {
  const [batches, size, concurrency] = [Number(a), Number(b), Number(c)];
  const bodies = Array.from({ length: batches }, () => batch(size));
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < bodies.length) await send(bodies[i++]!, size);
    }),
  );
  agent.destroy();
  console.log(
    JSON.stringify({ events, seconds: (performance.now() - t0) / 1000, latenciesMs: latencies, statuses }),
  );
} else {
  const [rate, size, seconds] = [Number(a), Number(b), Number(c)];
  const interval = (1000 * size) / rate;
  const total = Math.round((rate * seconds) / size);
  const bodies = Array.from({ length: total }, () => batch(size));
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    const due = t0 + k * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(bodies[k]!, size));
  }
  await Promise.all(inFlight);
  agent.destroy();
  console.log(
    JSON.stringify({ events, seconds: (performance.now() - t0) / 1000, latenciesMs: latencies, statuses }),
  );
}
void begin;
