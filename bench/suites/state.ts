/**
 * Where the online state is made durable (issue: online engine; architecture.md: "lmdb or snapshot files, by
 * benchmark"). The fraud20 state of BENCH_STATE_CUSTOMERS customers (default 1M) holding 20 events each, made
 * durable two ways, in one run:
 *
 * - snapshot files (what the processor does): the whole state as a few long typed columns, v8-serialised and
 *   written atomically, every checkpoint;
 * - lmdb: one record per entity (its columns as bytes), written once in full and then only for the entities that
 *   changed since the last checkpoint.
 *
 * Both are timed for a full write, for a checkpoint after one minute of 10k events/s (600k events), and for a
 * restart (load into an empty core).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import type { Plan } from '../../src/definitions/plan.js';
import { compileYaml } from '../../src/definitions/yaml.js';
import { Core } from '../../src/engine/core/core.js';
import type { EntityColumns, GroupSnapshot } from '../../src/engine/core/group-engine.js';
import { CheckpointStore } from '../../src/state/checkpoint-store.js';
import { FRAUD20_YAML, seededRandom } from '../fraud20.js';
import type { Metrics } from '../run.js';

const CUSTOMERS = Number(process.env.BENCH_STATE_CUSTOMERS ?? 1_000_000);
const EVENTS_PER_CUSTOMER = 20;
const MINUTE_EVENTS = 600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

function plan(): Plan {
  const compiled = compileYaml(FRAUD20_YAML);
  if (!compiled.ok) throw new Error('fraud20');
  return compiled.plan;
}

/** Applies `count` payments of random customers, from `seq` on; returns the customers touched. */
function pay(core: Core, random: () => number, count: number, seq: number, from: number, to: number) {
  const touched = new Set<string>();
  for (let i = 0; i < count; i++) {
    const customer = `c${Math.floor(CUSTOMERS * random())}`;
    touched.add(customer);
    const time = from + Math.floor((i / count) * (to - from));
    core.addEvent('payments', {
      time,
      seq: seq + i,
      fields: {
        customerId: customer,
        merchantId: `m${Math.floor(10_000 * random() ** 2)}`,
        amount: 100 + (i % 5_000),
      },
    });
  }
  return touched;
}

/** An entity's columns as one buffer: n, then times, seqs, numeric and categorical columns. */
function encode(columns: EntityColumns): Buffer {
  const n = columns.times.length;
  const bytes = 8 + n * (16 + 8 * columns.numeric.length + 4 * columns.categorical.length);
  const out = Buffer.allocUnsafe(bytes);
  out.writeDoubleLE(n, 0);
  let at = 8;
  for (const column of [columns.times, columns.seqs, ...columns.numeric, ...columns.categorical]) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at);
    at += column.byteLength;
  }
  return out;
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  const fraud20 = plan();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-state-bench-'));
  const metrics: Metrics = { customers: CUSTOMERS };
  try {
    log(`building the fraud20 state of ${CUSTOMERS.toLocaleString('en-US')} customers…`);
    const core = new Core(fraud20);
    const random = seededRandom(11);
    const total = CUSTOMERS * EVENTS_PER_CUSTOMER;
    pay(core, random, total, 0, START, START + 30 * DAY);
    const group = core.groups.get('fraud20')!;

    // Snapshot files.
    const store = new CheckpointStore(join(dir, 'snapshots'));
    const checkpoint = (core: Core) =>
      store.save({
        planHash: fraud20.hash,
        positions: {},
        snapshot: core.snapshot(),
        watermarks: {},
        createdAt: 0,
      });
    let begin = process.hrtime.bigint();
    metrics.snapshot_bytes = checkpoint(core);
    metrics.snapshot_write_s = seconds(begin);
    log(
      `snapshot: ${(metrics.snapshot_bytes / 1e6).toFixed(0)} MB in ${metrics.snapshot_write_s.toFixed(2)} s`,
    );

    // lmdb, one record per entity (the dictionaries would be one more record).
    const db = openLmdb({ path: join(dir, 'lmdb'), encoding: 'binary', noSync: false });
    begin = process.hrtime.bigint();
    await db.transaction(() => {
      for (const key of group.keys()) db.put(key, encode(group.entityColumns(key)!));
    });
    metrics.lmdb_write_all_s = seconds(begin);
    metrics.lmdb_bytes = statSync(join(dir, 'lmdb', 'data.mdb')).size;
    log(`lmdb: ${(metrics.lmdb_bytes / 1e6).toFixed(0)} MB in ${metrics.lmdb_write_all_s.toFixed(2)} s`);

    // One minute of 10k events/s, then a checkpoint each way.
    const touched = pay(core, random, MINUTE_EVENTS, total, START + 30 * DAY, START + 30 * DAY + 60_000);
    metrics.minute_entities_touched = touched.size;
    begin = process.hrtime.bigint();
    checkpoint(core);
    metrics.snapshot_checkpoint_after_minute_s = seconds(begin);
    begin = process.hrtime.bigint();
    await db.transaction(() => {
      for (const key of touched) db.put(key, encode(group.entityColumns(key)!));
    });
    metrics.lmdb_checkpoint_after_minute_s = seconds(begin);
    log(
      `checkpoint after a minute (${touched.size.toLocaleString('en-US')} entities changed): snapshot ${metrics.snapshot_checkpoint_after_minute_s.toFixed(2)} s, lmdb ${metrics.lmdb_checkpoint_after_minute_s.toFixed(2)} s`,
    );

    // Restart: load into an empty core.
    begin = process.hrtime.bigint();
    const loaded = store.load()!;
    new Core(fraud20).restore(loaded.snapshot);
    metrics.snapshot_load_s = seconds(begin);
    begin = process.hrtime.bigint();
    const keys: string[] = [];
    const counts: number[] = [];
    const parts: Buffer[] = [];
    for (const { key, value } of db.getRange()) {
      keys.push(key as string);
      counts.push((value as Buffer).readDoubleLE(0));
      parts.push(value as Buffer);
    }
    const events = counts.reduce((a, b) => a + b, 0);
    const keyLengths = Int32Array.from(keys, (key) => key.length);
    const keyChars = new Uint16Array(keyLengths.reduce((a, b) => a + b, 0));
    let charAt = 0;
    for (const key of keys) for (let i = 0; i < key.length; i++) keyChars[charAt++] = key.charCodeAt(i);
    const snapshot: GroupSnapshot = {
      dictionaries: core.snapshot().groups.fraud20!.dictionaries,
      keyChars,
      keyLengths,
      counts: Int32Array.from(counts),
      times: new Float64Array(events),
      seqs: new Float64Array(events),
      numeric: [new Float64Array(events)],
      categorical: [new Int32Array(events)],
    };
    let at = 0;
    for (let e = 0; e < parts.length; e++) {
      const part = parts[e]!;
      const n = counts[e]!;
      const doubles = (offset: number) =>
        new Float64Array(part.buffer.slice(part.byteOffset + offset, part.byteOffset + offset + 8 * n));
      snapshot.times.set(doubles(8), at);
      snapshot.seqs.set(doubles(8 + 8 * n), at);
      snapshot.numeric[0]!.set(doubles(8 + 16 * n), at);
      snapshot.categorical[0]!.set(
        new Int32Array(part.buffer.slice(part.byteOffset + 8 + 24 * n, part.byteOffset + 8 + 28 * n)),
        at,
      );
      at += n;
    }
    new Core(fraud20).restore({ planHash: fraud20.hash, groups: { fraud20: snapshot }, tables: [] });
    metrics.lmdb_load_s = seconds(begin);
    log(
      `restart: snapshot ${metrics.snapshot_load_s.toFixed(2)} s, lmdb ${metrics.lmdb_load_s.toFixed(2)} s`,
    );
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}
