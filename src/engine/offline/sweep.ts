/**
 * The offline sweep of one feature group: the group's events, sorted by entity and time (or by arrival, for the
 * as-served view), are cut into entities; each entity with spine rows goes, with those rows, to the core's group
 * engine (computeEntity), on this thread or, for large histories, on worker threads, one batch of entities at a
 * time. Values come from the core's operators only. Memory holds a few batches of entities at a time (DuckDB
 * sorts out of core).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { AGGREGATION_FUNCTIONS, type AggregationFn, type Plan } from '../../definitions/plan.js';
import type { FeatureGroupEngine } from '../core/group-engine.js';
import { startWorker } from '../worker-thread.js';
import { computeEntity, type Dictionaries, type EntityTask } from './entity-sweep.js';
import { decodeCategorical, type StreamStage } from './stage-plan.js';
import { doubles, type Staging } from './staging.js';
import type { SweepBatchResult, SweepWorkerSetup, TableRow } from './sweep-worker.js';

/** A training-set column: numbers (NaN = null) for numeric aggregations, values for the rest. */
export type FeatureColumn = Float64Array | unknown[];

/** Every aggregation but the recency ones (first/last and their K forms) gives a number (or null). */
const NUMERIC_FNS = new Set<AggregationFn>(
  AGGREGATION_FUNCTIONS.filter((fn) => !['first', 'last', 'firstK', 'lastK'].includes(fn)),
);

export function newFeatureColumn(fn: AggregationFn, rows: number): FeatureColumn {
  return NUMERIC_FNS.has(fn) ? new Float64Array(rows).fill(Number.NaN) : new Array(rows).fill(null);
}

export interface GroupSweep {
  readonly group: FeatureGroupEngine;
  readonly stage: StreamStage;
  /** Which staged entity column holds this group's key. */
  readonly entityIndex: number;
  /** For each aggregation of the group, the output column it fills (or null when the view does not use it). */
  readonly outputs: readonly (FeatureColumn | null)[];
  readonly asServed: boolean;
}

export interface SweepResources {
  readonly plan: Plan;
  readonly tableRows: readonly TableRow[];
  /** Worker threads (0: sweep on this thread). */
  readonly workers: number;
}

/** Worker threads worth starting for a history of `events` (small ones are faster on this thread). */
export function defaultWorkers(events: number): number {
  return events < 200_000 ? 0 : Math.max(1, availableParallelism());
}

/** Spine rows grouped by entity key, each entity's rows in time order. */
export function spineRowsByKey(keys: readonly (string | null)[], times: Float64Array): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (let row = 0; row < keys.length; row++) {
    const key = keys[row];
    if (key === null || key === undefined) continue;
    let rows = byKey.get(key);
    if (!rows) byKey.set(key, (rows = []));
    rows.push(row);
  }
  for (const rows of byKey.values()) if (rows.length > 1) rows.sort((a, b) => times[a]! - times[b]!);
  return byKey;
}

/** Growable columns of the entity being read. */
class EntityBuffer {
  length = 0;
  times = new Float64Array(1024);
  seqs = new Float64Array(1024);
  arrivals = new Float64Array(1024);
  numeric: Float64Array[];
  categorical: Float64Array[];
  rows: string[] = [];

  constructor(numeric: number, categorical: number) {
    this.numeric = Array.from({ length: numeric }, () => new Float64Array(1024));
    this.categorical = Array.from({ length: categorical }, () => new Float64Array(1024));
  }

  /** Appends rows [from, to) of a chunk: columns t, seq, arrival, numeric…, categorical codes…; rows: JSON. */
  append(columns: readonly Float64Array[], rows: readonly unknown[] | null, from: number, to: number): void {
    const at = this.length;
    this.reserve(at + to - from);
    this.times.set(columns[1]!.subarray(from, to), at);
    this.seqs.set(columns[2]!.subarray(from, to), at);
    this.arrivals.set(columns[3]!.subarray(from, to), at);
    const nNum = this.numeric.length;
    for (let n = 0; n < nNum; n++) this.numeric[n]!.set(columns[4 + n]!.subarray(from, to), at);
    for (let n = 0; n < this.categorical.length; n++)
      this.categorical[n]!.set(columns[4 + nNum + n]!.subarray(from, to), at);
    if (rows) for (let i = from; i < to; i++) this.rows.push(rows[i] as string);
    this.length = at + to - from;
  }

  reserve(size: number): void {
    if (size <= this.times.length) return;
    let capacity = this.times.length * 2;
    while (capacity < size) capacity *= 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.times = grow(this.times);
    this.seqs = grow(this.seqs);
    this.arrivals = grow(this.arrivals);
    this.numeric = this.numeric.map(grow);
    this.categorical = this.categorical.map(grow);
  }

  /** A copy the size of the entity (its buffers can move to a worker), and an empty buffer for the next one. */
  take(key: string, spineRows: readonly number[], times: Float64Array): EntityTask {
    const n = this.length;
    const task: EntityTask = {
      key,
      events: {
        length: n,
        times: this.times.slice(0, n),
        seqs: this.seqs.slice(0, n),
        arrivals: this.arrivals.slice(0, n),
        numeric: this.numeric.map((c) => c.slice(0, n)),
        categorical: this.categorical.map((c) => c.slice(0, n)),
        rows: this.rows,
      },
      spineRows: Int32Array.from(spineRows),
      spineTimes: Float64Array.from(spineRows, (r) => times[r]!),
    };
    this.length = 0;
    this.rows = [];
    return task;
  }

  skip(): void {
    this.length = 0;
    this.rows.length = 0;
  }
}

/** Where entity tasks are computed: this thread, or a pool of workers. */
interface Executor {
  submit(task: EntityTask): Promise<void> | void;
  finish(): Promise<void>;
}

function writerOf(sweep: GroupSweep) {
  const { outputs } = sweep;
  return (row: number, values: readonly unknown[]) => {
    for (let a = 0; a < outputs.length; a++) {
      const out = outputs[a];
      if (!out) continue;
      const value = values[a];
      if (out instanceof Float64Array) out[row] = typeof value === 'number' ? value : Number.NaN;
      else out[row] = value;
    }
  };
}

function localExecutor(sweep: GroupSweep, dictionaries: Dictionaries): Executor {
  const values: unknown[] = new Array(sweep.group.names.length);
  const write = writerOf(sweep);
  return {
    submit: (task) =>
      computeEntity(sweep.group, sweep.stage, dictionaries, sweep.asServed, task, values, write),
    finish: async () => {},
  };
}

const BATCH_EVENTS = 50_000;
const IN_FLIGHT_PER_WORKER = 3;

function workerExecutor(sweep: GroupSweep, resources: SweepResources, dictionaries: Dictionaries): Executor {
  const kinds = sweep.outputs.map((o) => (o === null ? null : o instanceof Float64Array ? 'num' : 'other'));
  const numericAt = kinds.flatMap((k, a) => (k === 'num' ? [a] : []));
  const otherAt = kinds.flatMap((k, a) => (k === 'other' ? [a] : []));
  const setup: SweepWorkerSetup = {
    plan: resources.plan,
    group: sweep.group.group.name,
    stage: sweep.stage,
    asServed: sweep.asServed,
    outputs: kinds,
    tableRows: resources.tableRows,
    dictionaries,
  };
  const workers = Array.from({ length: resources.workers }, () =>
    startWorker(import.meta.url, 'sweep-worker', setup),
  );
  const pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void; worker: Worker }>();
  const load = new Map<Worker, number>(workers.map((w) => [w, 0]));
  let failure: unknown = null;
  /** Senders waiting for a worker to finish a batch. */
  const slotWaiters: (() => void)[] = [];
  const accept = (result: SweepBatchResult) => {
    const { rows, numbers, others } = result;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let i = 0; i < numericAt.length; i++)
        (sweep.outputs[numericAt[i]!] as Float64Array)[row] = numbers[r * numericAt.length + i]!;
      for (let i = 0; i < otherAt.length; i++)
        (sweep.outputs[otherAt[i]!] as unknown[])[row] = others[r * otherAt.length + i];
    }
  };
  for (const worker of workers) {
    worker.on('message', (result: SweepBatchResult) => {
      accept(result);
      const entry = pending.get(result.id)!;
      pending.delete(result.id);
      load.set(worker, load.get(worker)! - 1);
      entry.resolve();
      for (const wake of slotWaiters.splice(0)) wake();
    });
    worker.on('error', (error) => {
      failure ??= error;
      for (const wake of slotWaiters.splice(0)) wake();
      for (const [id, entry] of pending)
        if (entry.worker === worker) {
          pending.delete(id);
          entry.reject(error);
        }
    });
  }
  let batch: EntityTask[] = [];
  let batchEvents = 0;
  let batchRows = 0;
  let nextId = 0;
  const waiters: Promise<void>[] = [];
  const send = async () => {
    if (!batch.length) return;
    if (failure) throw failure;
    // The least loaded worker; while every worker has enough queued, wait for one to finish a batch.
    const leastLoaded = () => workers.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
    let worker = leastLoaded();
    while (load.get(worker)! >= IN_FLIGHT_PER_WORKER) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve));
      if (failure) throw failure;
      worker = leastLoaded();
    }
    const id = nextId++;
    const transfer: ArrayBuffer[] = [];
    for (const task of batch) {
      const e = task.events;
      transfer.push(
        e.times.buffer as ArrayBuffer,
        e.seqs.buffer as ArrayBuffer,
        e.arrivals.buffer as ArrayBuffer,
      );
      for (const c of [...e.numeric, ...e.categorical]) transfer.push(c.buffer as ArrayBuffer);
    }
    waiters.push(new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject, worker })));
    load.set(worker, load.get(worker)! + 1);
    worker.postMessage({ id, rows: batchRows, tasks: batch }, transfer);
    batch = [];
    batchEvents = 0;
    batchRows = 0;
  };
  return {
    submit: async (task) => {
      batch.push(task);
      batchEvents += task.events.length + task.spineRows.length;
      batchRows += task.spineRows.length;
      if (batchEvents >= BATCH_EVENTS) await send();
    },
    finish: async () => {
      try {
        await send();
        await Promise.all(waiters);
      } finally {
        await Promise.all(workers.map((w) => w.terminate()));
      }
    },
  };
}

export async function sweepGroup(
  staging: Staging,
  sweep: GroupSweep,
  resources: SweepResources,
  spineByKey: Map<string, number[]>,
  times: Float64Array,
  progress: (events: number) => void,
): Promise<void> {
  const { group, stage, entityIndex, asServed } = sweep;
  const k = `k${entityIndex}`;
  const keysTable = `${stage.table}_keys${entityIndex}`;
  // Entities are numbered by DuckDB, so that the sort and the cut between entities work on numbers.
  await staging.run(
    `CREATE OR REPLACE TABLE ${keysTable} AS SELECT k, (row_number() OVER ())::DOUBLE AS kid FROM (SELECT DISTINCT ${k} AS k FROM ${stage.table} WHERE ${k} IS NOT NULL)`,
  );
  const keyOf: string[] = [];
  for await (const chunk of staging.chunks(`SELECT kid, k FROM ${keysTable}`))
    for (let i = 0; i < chunk.rowCount; i++)
      keyOf[chunk.columns[0]![i] as number] = chunk.columns[1]![i] as string;

  // Categorical values are coded by DuckDB too: numbers cross to JavaScript and to workers far faster than text.
  const dictionaries: unknown[][] = [];
  for (let i = 0; i < stage.categorical.length; i++) {
    await staging.run(
      `CREATE OR REPLACE TABLE ${stage.table}_dict${i} AS SELECT c, (row_number() OVER () - 1)::DOUBLE AS code FROM (SELECT DISTINCT c${i} AS c FROM ${stage.table} WHERE c${i} IS NOT NULL)`,
    );
    const dictionary: unknown[] = [];
    for await (const chunk of staging.chunks(`SELECT code, c FROM ${stage.table}_dict${i}`))
      for (let r = 0; r < chunk.rowCount; r++)
        dictionary[chunk.columns[0]![r] as number] = decodeCategorical(
          chunk.columns[1]![r] as string,
          stage.categoricalTypes[i]!,
        );
    dictionaries.push(dictionary);
  }

  const nNum = stage.numeric.length;
  const nCat = stage.categorical.length;
  const select = [
    'x.kid',
    'e.t',
    'e.seq',
    'coalesce(e.arrival, e.t)',
    ...stage.numeric.map((_, i) => `coalesce(e.n${i}, 'NaN'::DOUBLE)`),
    ...stage.categorical.map((_, i) => `coalesce(d${i}.code, -1)`),
    ...(stage.rows ? ['e.row'] : []),
  ].join(', ');
  const joins = stage.categorical
    .map((_, i) => ` LEFT JOIN ${stage.table}_dict${i} d${i} ON e.c${i} = d${i}.c`)
    .join('');
  // Entities with no spine row are never read: DuckDB leaves their events out.
  const order = asServed ? 'x.kid, e.arrival, e.seq' : 'x.kid, e.t, e.seq';
  const sql = `SELECT ${select} FROM ${stage.table} e JOIN ${keysTable} x ON e.${k} = x.k${joins} ORDER BY ${order}`;

  const executor =
    resources.workers > 0
      ? workerExecutor(sweep, resources, dictionaries)
      : localExecutor(sweep, dictionaries);
  const buffer = new EntityBuffer(nNum, nCat);
  const seen = new Set<string>();
  const finish = async (kid: number) => {
    const key = keyOf[kid]!;
    seen.add(key);
    const rows = spineByKey.get(key);
    const events = buffer.length;
    if (rows) await executor.submit(buffer.take(key, rows, times));
    else buffer.skip();
    progress(events);
  };

  try {
    let current = -1;
    for await (const chunk of staging.rawChunks(sql)) {
      const rowCount = chunk.rowCount;
      const kids = doubles(chunk, 0);
      const columns = Array.from({ length: 4 + nNum + nCat }, (_, c) => doubles(chunk, c));
      const rows = stage.rows ? chunk.getColumnValues(4 + nNum + nCat) : null;
      // Runs of one entity are copied column by column.
      for (let from = 0; from < rowCount; ) {
        const kid = kids[from]!;
        if (kid !== current) {
          if (current >= 0) await finish(current);
          current = kid;
        }
        let to = from + 1;
        while (to < rowCount && kids[to] === kid) to++;
        buffer.append(columns, rows, from, to);
        from = to;
      }
    }
    if (current >= 0) await finish(current);
  } finally {
    await executor.finish();
  }
  // Spine rows of entities without events: the empty-window values (a new customer is not an error).
  const values: unknown[] = new Array(group.names.length);
  const write = writerOf(sweep);
  for (const [key, rows] of spineByKey) {
    if (seen.has(key)) continue;
    for (const row of rows) {
      group.read(key, times[row]!, values);
      write(row, values);
    }
  }
}
