/**
 * The evaluation core on `fraud20` (20 features): events applied per second on one core (events made in batches
 * of 10k just before they are applied, as the online processor decodes them; and, for comparison, all made
 * beforehand), and the p99 latency of
 * reading one entity's vector when it holds 100k events over 30 days, at times within the hour after its
 * latest event. Per-aggregation read figures come from one-feature groups on the same entity.
 */

import type { Plan } from '../../src/definitions/plan.js';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Core } from '../../src/engine/core/core.js';
import type { CoreEvent } from '../../src/engine/core/event.js';
import { FRAUD20_YAML, seededRandom } from '../fraud20.js';
import { percentile } from '../percentile.js';
import type { Metrics } from '../run.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const UPDATE_EVENTS = 2_000_000;
const CUSTOMERS = 50_000;
const MERCHANTS = 5_000;
const HEAVY_EVENTS = 100_000;
const READS = 20_000;
/** Events made at a time before being applied, for the streamed update figure. */
const STREAM_BATCH = 10_000;

function compile(yaml: string): Plan {
  const result = compileYaml(yaml, 'fraud20.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/**
 * Payments over 30 days in arrival order: skewed customers and merchants, ~1% arriving up to 5 minutes late.
 * Rows [from, to) of a stream of `count`; `random` carries on from the previous rows.
 */
function paymentRows(
  from: number,
  to: number,
  count: number,
  customers: number,
  random: () => number,
): CoreEvent[] {
  const events: CoreEvent[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    let time = START + Math.floor((i / count) * 30 * DAY);
    if (random() < 0.01) time -= Math.floor(random() * 300_000);
    const customer = Math.floor(customers * random() ** 3);
    const merchant = Math.floor(MERCHANTS * random() ** 2);
    events[i - from] = {
      time,
      seq: i,
      fields: {
        paymentId: `p${i}`,
        customerId: `c${customer}`,
        merchantId: `m${merchant}`,
        ts: time,
        amount: 100 + Math.floor(random() * 50_000),
      },
    };
  }
  return events;
}

function payments(count: number, customers: number, seed: number): CoreEvent[] {
  return paymentRows(0, count, count, customers, seededRandom(seed));
}

/**
 * Events/s of one-event updates, with the events made in batches of `batch` just before they are applied (as the
 * online processor decodes them from the log) and only the applying timed.
 */
function streamedUpdateRate(plan: Plan, batch: number): number {
  const random = seededRandom(1);
  const core = new Core(plan);
  let nanoseconds = 0n;
  for (let from = 0; from < UPDATE_EVENTS; from += batch) {
    const events = paymentRows(from, Math.min(UPDATE_EVENTS, from + batch), UPDATE_EVENTS, CUSTOMERS, random);
    const begin = process.hrtime.bigint();
    for (let i = 0; i < events.length; i++) core.addEvent('payments', events[i]!);
    nanoseconds += process.hrtime.bigint() - begin;
  }
  return Math.round(UPDATE_EVENTS / (Number(nanoseconds) / 1e9));
}

/** p99 and median µs of reading `view` for customer `key` at times within the hour after `latest`. */
function readLatency(core: Core, view: string, key: string, latest: number, seed: number) {
  const random = seededRandom(seed);
  const keys = { customer: key };
  for (let i = 0; i < 2_000; i++) core.read(view, keys, latest + 1 + Math.floor(random() * 3_600_000)); // warm-up
  const samples = new Float64Array(READS);
  let sink = 0;
  for (let i = 0; i < READS; i++) {
    const t = latest + 1 + Math.floor(random() * 3_600_000);
    const begin = process.hrtime.bigint();
    const vector = core.read(view, keys, t);
    samples[i] = Number(process.hrtime.bigint() - begin) / 1_000;
    sink += vector.count_30d === undefined ? 0 : 1;
  }
  if (sink < 0) console.log(sink);
  return { p99: percentile(samples, 0.99), p50: percentile(samples, 0.5) };
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  const plan = compile(FRAUD20_YAML);
  const metrics: Metrics = {};

  log(`applying ${UPDATE_EVENTS.toLocaleString()} payments over ${CUSTOMERS.toLocaleString()} customers…`);
  streamedUpdateRate(plan, STREAM_BATCH); // warm-up
  metrics.update_events_per_s = streamedUpdateRate(plan, STREAM_BATCH);

  // The same events made all at once beforehand: the core then also pays for cache misses and major collections
  // over the bench's own 450 MB of event objects, which no running system holds.
  const events = payments(UPDATE_EVENTS, CUSTOMERS, 1);
  const core = new Core(plan);
  const warm = new Core(plan);
  for (let i = 0; i < 200_000; i++) warm.addEvent('payments', events[i]!);
  const begin = process.hrtime.bigint();
  for (let i = 0; i < events.length; i++) core.addEvent('payments', events[i]!);
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  metrics.update_events_per_s_pregenerated = Math.round(UPDATE_EVENTS / seconds);
  log(`applied in ${seconds.toFixed(2)} s`);

  // The offline sweep's path: each customer's events as columns, sorted by time, appended in bulk. Grouping and
  // sorting are the sweep's own work and are not timed here; interning the merchant ids is.
  const byCustomer = new Map<string, CoreEvent[]>();
  for (const e of events) {
    const key = e.fields.customerId as string;
    const list = byCustomer.get(key);
    if (list) list.push(e);
    else byCustomer.set(key, [e]);
  }
  const batches = [...byCustomer].map(([key, list]) => {
    list.sort((a, b) => a.time - b.time || a.seq - b.seq);
    return {
      key,
      batch: {
        length: list.length,
        times: Float64Array.from(list, (e) => e.time),
        seqs: Float64Array.from(list, (e) => e.seq),
        fields: {
          amount: Float64Array.from(list, (e) => e.fields.amount as number),
          merchantId: list.map((e) => e.fields.merchantId),
        },
      },
    };
  });
  const batched = new Core(plan);
  const group = batched.groups.get('fraud20')!;
  const batchBegin = process.hrtime.bigint();
  for (const { key, batch } of batches) group.addEntityColumns(key, batch);
  const batchSeconds = Number(process.hrtime.bigint() - batchBegin) / 1e9;
  metrics.batch_update_events_per_s = Math.round(UPDATE_EVENTS / batchSeconds);
  const end = START + 31 * DAY;
  metrics.batch_values_equal = batches
    .slice(0, 200)
    .every(
      ({ key }) =>
        JSON.stringify(batched.read('fraud20', { customer: key }, end)) ===
        JSON.stringify(core.read('fraud20', { customer: key }, end)),
    );

  // The same stream with a vector read of the paying customer every 20 events, as a live system does:
  // indexes kept up only for entities that are read show their cost here.
  const mixed = new Core(plan);
  const mixedBegin = process.hrtime.bigint();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    mixed.addEvent('payments', e);
    if (i % 20 === 0) mixed.read('fraud20', { customer: e.fields.customerId as string }, e.time + 1);
  }
  const mixedSeconds = Number(process.hrtime.bigint() - mixedBegin) / 1e9;
  metrics.update_with_reads_events_per_s = Math.round(UPDATE_EVENTS / mixedSeconds);

  log(`one customer with ${HEAVY_EVENTS.toLocaleString()} events over 30 days…`);
  const heavy = payments(HEAVY_EVENTS, 1, 2);
  const heavyCore = new Core(plan);
  for (const e of heavy) heavyCore.addEvent('payments', e);
  const latest = heavyCore.groups.get('fraud20')!.latestTime('c0');
  const vectorRead = readLatency(heavyCore, 'fraud20', 'c0', latest, 3);
  metrics.read_p99_us_100k = Number(vectorRead.p99.toFixed(2));
  metrics.read_p50_us_100k = Number(vectorRead.p50.toFixed(2));

  // One-feature groups: what each aggregation costs on its own.
  const aggregations = FRAUD20_YAML.split('\n').filter((line) => /^ {6}\w+: \{ fn:/.test(line));
  for (const line of aggregations) {
    const name = line.trim().split(':')[0]!;
    const single = FRAUD20_YAML.replace(/( {4}aggregations:\n)[\s\S]*?(\nviews:)/, `$1${line}\n$2`);
    const singleCore = new Core(compile(single));
    for (const e of heavy) singleCore.addEvent('payments', e);
    metrics[`read_p99_us_100k_${name}`] = Number(
      readLatency(singleCore, 'fraud20', 'c0', latest, 4).p99.toFixed(2),
    );
  }
  return metrics;
}
