/**
 * The serve benchmark's fixed-rate read load, run as a second process: GETs of one vector for random customers,
 * sent on an open-loop schedule, request i due at start + i / rate, over kept-alive connections.
 *
 * Why not autocannon here: its rate mode gives each connection a quota per second and sends that quota as fast as
 * the server answers, then idles until the next one-second tick. "10k requests/s" then means a saturated server
 * for part of every second, and the tail it reports is a queue of bursts, not the latency at that rate. This
 * generator spreads the requests evenly (it checks the clock between I/O turns and sleeps until the next is due,
 * as wrk2 does with its schedule) and times each response from the moment its request was due, so that a request
 * held back because every connection was busy, or because the generator itself fell behind, counts its wait (no
 * coordinated omission).
 *
 *   node open-loop-reads.js <port> <serverPid> <requestsPerSecond> <warmUpSeconds> <seconds> <connections> <customers> <at|-> <seed>
 *
 * Prints one JSON line, of the timed requests: requests, seconds, statuses, p50/p99/p999/max in ms from the due
 * time (`fromDue`) and from the moment the request was written (`fromSend`), and the server process's CPU time per
 * request over the same span, all its threads and the kernel's work for it (from /proc; null where there is none),
 * the generator's own CPU time per request, and how many of its sleeps a second ended over 1 ms late (the
 * machine's own stalls). With OPEN_LOOP_TRACE=<file>, also writes every timed request's latency from its due
 * time, in order, and the epoch time at which the first was due, to that file (JSON).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { seededRandom } from './fraud20.js';
import { percentileOfSorted } from './percentile.js';

const USAGE =
  'node open-loop-reads.js <port> <serverPid> <requestsPerSecond> <warmUpSeconds> <seconds> <connections> <customers> <at|-> <seed>';
const [port, serverPid, rate, warmUpSeconds, seconds, connections, customers, at, seed] =
  process.argv.slice(2);
// Without all nine, a NaN port or rate would leave it waiting for ever.
if (
  seed === undefined ||
  [port, rate, warmUpSeconds, seconds, connections, customers].some((n) => !(Number(n) >= 0))
)
  fail(`usage: ${USAGE}`);
const interval = 1000 / Number(rate);
/** The first requests warm both ends up (code, connections, caches) on the same schedule; they are not timed. */
const warmUp = Math.round(Number(rate) * Number(warmUpSeconds));
const total = warmUp + Math.round(Number(rate) * Number(seconds));
const random = seededRandom(Number(seed));
const query = at === '-' ? '' : `?at=${at}`;
/**
 * Every request's bytes, back to back in one buffer (request i is [requestStarts[i], requestStarts[i + 1])).
 * Why, and why responses are read from their bytes below: the generator's own scavenges pause it, and a pause of
 * the generator is counted as the server's latency. With a buffer per request (~130k objects in its old
 * generation) and a string and a regular expression match per response, the generator paused 13 times a second,
 * 0.67 ms at the median, 10 times a second over 0.5 ms; now ~45 times a second, 0.26 ms at the median, 3 times a
 * second over 0.5 ms (its young generation stays small). The bare route's p99 at 10k/s went 1.01–1.04 → 0.60–0.74
 * ms in alternating runs (docs/serving.md).
 */
const requestTemplate = (customer: number) =>
  `GET /v1/views/fraud20/c${customer}${query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const requestStarts = new Int32Array(total + 1);
const requestBytes = Buffer.allocUnsafeSlow(total * Buffer.byteLength(requestTemplate(Number(customers))));
for (let i = 0; i < total; i++) {
  const text = requestTemplate(Math.floor(Number(customers) * random() ** 1.5));
  requestStarts[i + 1] = requestStarts[i]! + requestBytes.write(text, requestStarts[i]!, 'latin1');
}

const fromDue = new Float64Array(total);
const fromSend = new Float64Array(total);
const statuses: Record<number, number> = {};
let completed = 0;
let timed = 0;
let timedFrom = 0;
let cpuFrom = Number.NaN;
let ownCpuFrom = process.cpuUsage();

/** One kept-alive connection with at most one request in flight (no pipelining: a request waits for a free one). */
interface Connection {
  readonly socket: Socket;
  busy: boolean;
  index: number;
  due: number;
  sent: number;
  /** Bytes of the response read so far, until its head and body are complete. */
  pending: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');
const CONTENT_LENGTH = Buffer.from('content-length:');
const NO_BYTES = Buffer.alloc(0);

/**
 * The total length (head and body) of the response at the start of `bytes`, or -1 while its head is incomplete.
 * Read from the bytes, without a string or a match per response: the generator's own garbage makes its own
 * scavenges, and a pause of the generator counts as the server's latency.
 */
function responseLength(bytes: Buffer): number {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return -1;
  for (
    let line = bytes.indexOf(LINE_END);
    line >= 0 && line < headEnd;
    line = bytes.indexOf(LINE_END, line + 2)
  ) {
    let at = line + 2;
    let matched = 0;
    // Header names are case-insensitive: compare in lower case (| 0x20 lowers a letter, keeps '-' and ':').
    while (matched < CONTENT_LENGTH.length && (bytes[at + matched]! | 0x20) === CONTENT_LENGTH[matched])
      matched++;
    if (matched < CONTENT_LENGTH.length) continue;
    at += matched;
    while (bytes[at] === 0x20) at++;
    let length = 0;
    for (let digit = bytes[at]! - 0x30; digit >= 0 && digit <= 9; digit = bytes[++at]! - 0x30)
      length = length * 10 + digit;
    return headEnd + 4 + length;
  }
  throw new Error(`response without content-length: ${bytes.toString('latin1', 0, headEnd)}`);
}

/** The status code of the response at the start of `bytes` ("HTTP/1.1 200 …"). */
function statusOf(bytes: Buffer): number {
  return (bytes[9]! - 0x30) * 100 + (bytes[10]! - 0x30) * 10 + (bytes[11]! - 0x30);
}

function fail(message: string): never {
  process.stderr.write(`open-loop-reads: ${message}\n`);
  process.exit(1);
}

const pool: Connection[] = [];
let nextToSend = 0;
let t0 = 0;

function onData(connection: Connection, chunk: Buffer): void {
  connection.pending = connection.pending.length ? Buffer.concat([connection.pending, chunk]) : chunk;
  const length = responseLength(connection.pending);
  if (length < 0 || connection.pending.length < length) return;
  if (connection.pending.length > length) throw new Error('bytes after a response: no pipelining here');
  const now = performance.now();
  completed++;
  if (connection.index >= warmUp) {
    fromDue[connection.index - warmUp] = now - connection.due;
    fromSend[connection.index - warmUp] = now - connection.sent;
    timed++;
    const status = statusOf(connection.pending);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  connection.pending = NO_BYTES;
  connection.busy = false;
  dispatch(now);
}

/** Sends every request that is due on the free connections. */
function dispatch(now: number): void {
  for (const connection of pool) {
    if (nextToSend >= total) return;
    const due = t0 + nextToSend * interval;
    if (due > now) return;
    if (connection.busy) continue;
    connection.busy = true;
    if (nextToSend === warmUp) {
      timedFrom = now;
      cpuFrom = serverCpuSeconds();
      ownCpuFrom = process.cpuUsage();
    }
    connection.index = nextToSend;
    connection.due = due;
    connection.sent = now;
    connection.socket.write(requestBytes.subarray(requestStarts[nextToSend]!, requestStarts[++nextToSend]!));
  }
}

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  } catch {
    return 100;
  }
})();

/** The server's CPU seconds so far (user + system, every thread), or NaN without /proc. */
function serverCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

await Promise.all(
  Array.from(
    { length: Number(connections) },
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ port: Number(port), host: '127.0.0.1', noDelay: true }, resolve);
        const connection: Connection = {
          socket,
          busy: false,
          index: 0,
          due: 0,
          sent: 0,
          pending: NO_BYTES,
        };
        socket.on('data', (chunk: Buffer) => onData(connection, chunk));
        socket.on('error', (error) => {
          reject(error);
          fail(`connection to the server failed: ${error.message}`);
        });
        socket.on('close', () => {
          if (completed < total) fail('the server closed a connection before the load was sent');
        });
        pool.push(connection);
      }),
  ),
);

/**
 * Between I/O turns the generator sleeps until just before the next request is due. It used to spin instead, and
 * so held one of this machine's two cores: the server then shared the other with the kernel's network work and
 * its own GC threads. In alternating runs against the bare route at 10k/s, p99 was 2.0–4.1 ms spinning and
 * 0.6–1.0 ms sleeping while the machine was busy (0.64–0.66 against 0.71–0.97 while it was quiet).
 * Atomics.wait sleeps with microsecond resolution (node's timers step in milliseconds, this schedule in 100 µs);
 * waking up takes up to ~50 µs (the kernel's timer slack), so it wakes that much early. A response that arrives during a sleep is seen when it ends: at most one interval late, which
 * can only lengthen the latencies measured.
 */
const WAKE_EARLY_MS = 0.08;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/**
 * The machine's own stalls, seen from here: sleeps (over the timed requests) that ended more than 1 ms after they
 * were due to end. A thread that sleeps on this VM is woken late now and then, and by how much varies with the host's
 * load (docs/serving.md); the server's threads meet the same delays, so this count says how noisy the run was.
 */
let lateWakeUps = 0;
t0 = performance.now();
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    dispatch(now);
    if (completed >= total) return resolve();
    const wait = t0 + nextToSend * interval - now;
    if (wait > WAKE_EARLY_MS + 0.01) {
      Atomics.wait(sleepCell, 0, 0, wait - WAKE_EARLY_MS);
      if (nextToSend > warmUp && performance.now() - now - (wait - WAKE_EARLY_MS) > 1) lateWakeUps++;
    }
    setImmediate(tick);
  };
  tick();
});
const elapsed = (performance.now() - timedFrom) / 1000;
// For a look at when the slow responses came (stalls, GC pauses): each timed request's latency from its due time.
if (process.env.OPEN_LOOP_TRACE)
  writeFileSync(
    process.env.OPEN_LOOP_TRACE,
    JSON.stringify({
      intervalMs: interval,
      firstDueEpochMs: performance.timeOrigin + t0 + warmUp * interval,
      fromDueMs: [...fromDue.slice(0, timed)],
    }),
  );
const cpuSeconds = serverCpuSeconds() - cpuFrom;
const ownCpu = process.cpuUsage(ownCpuFrom);
for (const connection of pool) connection.socket.destroy();

const summary = (times: Float64Array) => {
  const sorted = times.slice(0, timed).sort();
  return {
    p50: percentileOfSorted(sorted, 0.5),
    p99: percentileOfSorted(sorted, 0.99),
    p999: percentileOfSorted(sorted, 0.999),
    max: sorted[sorted.length - 1] ?? 0,
  };
};
process.stdout.write(
  `${JSON.stringify({ requests: timed, seconds: elapsed, statuses, fromDue: summary(fromDue), fromSend: summary(fromSend), serverCpuUsPerRequest: Number.isNaN(cpuSeconds) ? null : (cpuSeconds * 1e6) / timed, generatorCpuUsPerRequest: (ownCpu.user + ownCpu.system) / timed, lateWakeUpsPerSecond: lateWakeUps / elapsed })}\n`,
);
