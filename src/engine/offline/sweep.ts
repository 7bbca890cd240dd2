/**
 * The offline sweep of one feature group: the group's events, sorted by entity and time (or by arrival, for the
 * as-served view), go entity by entity into the core's group engine, which then answers each spine row of that
 * entity as of its time; the entity's state is dropped before the next. Values come from the core's operators
 * only. Memory holds one entity's history at a time (DuckDB sorts out of core).
 */
import type { AggregationFn } from '../../definitions/plan.js';
import type { FeatureGroupEngine } from '../core/group-engine.js';
import { decodeCategorical, type StreamStage } from './stage-plan.js';
import type { Staging } from './staging.js';

/** A training-set column: numbers (NaN = null) for numeric aggregations, values for the rest. */
export type FeatureColumn = Float64Array | unknown[];

const NUMERIC_FNS = new Set<AggregationFn>([
  'count',
  'sum',
  'mean',
  'min',
  'max',
  'stddev',
  'variance',
  'countDistinct',
  'approxCountDistinct',
  'approxQuantile',
  'timeSinceLast',
  'timeSinceFirst',
]);

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

/** Growable columns of one entity's events. */
class EntityEvents {
  length = 0;
  times = new Float64Array(1024);
  seqs = new Float64Array(1024);
  arrivals = new Float64Array(1024);
  numeric: Float64Array[];
  categorical: unknown[][];
  rows: string[] = [];

  constructor(numeric: number, categorical: number) {
    this.numeric = Array.from({ length: numeric }, () => new Float64Array(1024));
    this.categorical = Array.from({ length: categorical }, () => []);
  }

  reserve(): void {
    if (this.length < this.times.length) return;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.times = grow(this.times);
    this.seqs = grow(this.seqs);
    this.arrivals = grow(this.arrivals);
    this.numeric = this.numeric.map(grow);
  }

  clear(): void {
    this.length = 0;
    for (const c of this.categorical) c.length = 0;
    this.rows.length = 0;
  }
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

export async function sweepGroup(
  staging: Staging,
  sweep: GroupSweep,
  spineByKey: Map<string, number[]>,
  times: Float64Array,
  progress: (events: number) => void,
): Promise<void> {
  const { group, stage, entityIndex, outputs, asServed } = sweep;
  const names = group.names;
  const values: unknown[] = new Array(names.length);
  const k = `k${entityIndex}`;
  const keysTable = `${stage.table}_keys${entityIndex}`;
  await staging.run(
    `CREATE OR REPLACE TABLE ${keysTable} AS SELECT k, (row_number() OVER ())::DOUBLE AS kid FROM (SELECT DISTINCT ${k} AS k FROM ${stage.table} WHERE ${k} IS NOT NULL)`,
  );
  const keyOf: string[] = [];
  for await (const chunk of staging.chunks(`SELECT kid, k FROM ${keysTable}`))
    for (let i = 0; i < chunk.rowCount; i++) keyOf[chunk.columns[0]![i] as number] = chunk.columns[1]![i] as string;

  const nNum = stage.numeric.length;
  const nCat = stage.categorical.length;
  const select = [
    'x.kid',
    'e.t',
    'e.seq',
    'coalesce(e.arrival, e.t)',
    ...stage.numeric.map((_, i) => `e.n${i}`),
    ...stage.categorical.map((_, i) => `e.c${i}`),
    ...(stage.rows ? ['e.row'] : []),
  ].join(', ');
  const order = asServed ? 'x.kid, e.arrival, e.seq' : 'x.kid, e.t, e.seq';
  const sql = `SELECT ${select} FROM ${stage.table} e JOIN ${keysTable} x ON e.${k} = x.k ORDER BY ${order}`;

  const events = new EntityEvents(nNum, nCat);
  const write = (row: number) => {
    for (let a = 0; a < names.length; a++) {
      const out = outputs[a];
      if (!out) continue;
      const value = values[a];
      if (out instanceof Float64Array) out[row] = typeof value === 'number' ? value : Number.NaN;
      else out[row] = value;
    }
  };
  const seen = new Set<string>();
  const finish = (kid: number) => {
    const key = keyOf[kid]!;
    seen.add(key);
    const rows = spineByKey.get(key);
    if (rows) {
      if (asServed) applyAsServed(group, key, events, rows, times, values, write, stage);
      else {
        applyAll(group, key, events, stage);
        for (const row of rows) {
          group.read(key, times[row]!, values);
          write(row);
        }
      }
    }
    group.forget(key);
    progress(events.length);
    events.clear();
  };

  let current = -1;
  for await (const chunk of staging.chunks(sql)) {
    const c = chunk.columns;
    const kids = c[0]!;
    for (let i = 0; i < chunk.rowCount; i++) {
      const kid = kids[i] as number;
      if (kid !== current) {
        if (current >= 0) finish(current);
        current = kid;
      }
      events.reserve();
      const at = events.length++;
      events.times[at] = c[1]![i] as number;
      events.seqs[at] = c[2]![i] as number;
      events.arrivals[at] = c[3]![i] as number;
      for (let n = 0; n < nNum; n++) {
        const v = c[4 + n]![i];
        events.numeric[n]![at] = v === null ? Number.NaN : (v as number);
      }
      for (let n = 0; n < nCat; n++)
        events.categorical[n]![at] = decodeCategorical(c[4 + nNum + n]![i] as string | null, stage.categoricalTypes[n]!);
      if (stage.rows) events.rows[at] = c[4 + nNum + nCat]![i] as string;
    }
  }
  if (current >= 0) finish(current);
  // Spine rows of entities without events: the empty-window values (a new customer is not an error).
  for (const [key, rows] of spineByKey) {
    if (seen.has(key)) continue;
    for (const row of rows) {
      group.read(key, times[row]!, values);
      write(row);
    }
  }
}

function fieldColumns(events: EntityEvents, stage: StreamStage): Record<string, Float64Array | unknown[]> {
  const fields: Record<string, Float64Array | unknown[]> = {};
  stage.numeric.forEach((name, n) => {
    fields[name] = events.numeric[n]!.subarray(0, events.length);
  });
  stage.categorical.forEach((name, n) => {
    fields[name] = events.categorical[n]!;
  });
  return fields;
}

/** Event-time view: the entity's whole history, then reads at any t. */
function applyAll(group: FeatureGroupEngine, key: string, events: EntityEvents, stage: StreamStage): void {
  if (stage.rows) {
    for (let i = 0; i < events.length; i++)
      group.addKeyed(key, { time: events.times[i]!, seq: events.seqs[i]!, fields: JSON.parse(events.rows[i]!) });
    return;
  }
  group.addEntityColumns(key, {
    length: events.length,
    times: events.times.subarray(0, events.length),
    seqs: events.seqs.subarray(0, events.length),
    fields: fieldColumns(events, stage),
  });
}

/** As-served view: before reading at t, only the events that had arrived by t, applied in arrival order. */
function applyAsServed(
  group: FeatureGroupEngine,
  key: string,
  events: EntityEvents,
  rows: readonly number[],
  times: Float64Array,
  values: unknown[],
  write: (row: number) => void,
  stage: StreamStage,
): void {
  let next = 0;
  const fields: Record<string, unknown> = {};
  for (const row of rows) {
    const t = times[row]!;
    for (; next < events.length && events.arrivals[next]! <= t; next++) {
      let eventFields: Record<string, unknown>;
      if (stage.rows) eventFields = JSON.parse(events.rows[next]!);
      else {
        eventFields = fields;
        stage.numeric.forEach((name, n) => {
          const v = events.numeric[n]![next]!;
          fields[name] = Number.isNaN(v) ? null : v;
        });
        stage.categorical.forEach((name, n) => {
          fields[name] = events.categorical[n]![next];
        });
      }
      group.addKeyed(key, { time: events.times[next]!, seq: events.seqs[next]!, fields: eventFields });
    }
    group.read(key, t, values);
    write(row);
  }
}
