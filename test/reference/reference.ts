/**
 * The reference: slow, obviously correct, written straight from ../shared/docs/semantics.md, sharing no code
 * with the engine except the CEL library. For each read it filters the whole event list again.
 */

import { featureValueType } from '../../src/definitions/compile.js';
import type { AggregationPlan, FeatureGroupPlan, Plan } from '../../src/definitions/plan.js';
import type { VariableType } from '../../src/expressions/cel.js';
import { compileCel } from '../../src/expressions/cel.js';

export interface ReferenceEvent {
  readonly stream: string;
  /** Arrival order across everything the reference is given (the stream's arrival sequence). */
  readonly seq: number;
  readonly time: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface ReferenceTableRow {
  readonly table: string;
  readonly seq: number;
  readonly validFrom: number;
  readonly row: Readonly<Record<string, unknown>>;
}

/** A feature value and the scale its tolerance is relative to (largest |input|, squared for variance). */
export interface ReferenceValue {
  readonly value: unknown;
  readonly scale: number;
}

const asKey = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** Semantics: two copies with one id are one event; the first to arrive counts. */
export function deduplicate(plan: Plan, events: readonly ReferenceEvent[]): ReferenceEvent[] {
  const seen = new Set<string>();
  const kept: ReferenceEvent[] = [];
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    const idField = plan.streams[e.stream]?.idField;
    const id = idField === undefined ? null : e.fields[idField];
    if (id !== null && id !== undefined) {
      const key = `${e.stream}\u0000${String(id)}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(e);
  }
  return kept;
}

function lookupAsOf(
  rows: readonly ReferenceTableRow[],
  table: string,
  keyField: string,
  key: string,
  t: number,
) {
  let best: ReferenceTableRow | null = null;
  for (const r of rows) {
    if (r.table !== table || asKey(r.row[keyField]) !== key || r.validFrom > t) continue;
    if (!best || r.validFrom > best.validFrom || (r.validFrom === best.validFrom && r.seq > best.seq))
      best = r;
  }
  return best ? best.row : null;
}

function fieldOf(event: Record<string, unknown>, field: string): unknown {
  if (field in event) return event[field];
  const dot = field.indexOf('.');
  if (dot > 0)
    return (event[field.slice(0, dot)] as Record<string, unknown> | null)?.[field.slice(dot + 1)] ?? null;
  return null;
}

function aggregate(
  agg: AggregationPlan,
  events: { time: number; seq: number; e: Record<string, unknown> }[],
  t: number,
): ReferenceValue {
  const inWindow = events.filter(({ time }) => {
    if (time >= t) return false;
    if (agg.windowMs === null) return true;
    const end = agg.bucketMs === null ? t : Math.floor(t / agg.bucketMs) * agg.bucketMs;
    return time >= end - agg.windowMs;
  });
  inWindow.sort((a, b) => a.time - b.time || a.seq - b.seq);
  const field = agg.fields[0] ?? '';
  const xs = inWindow.map((x) => fieldOf(x.e, field)).filter(isNum);
  const m = xs.reduce((acc, x) => Math.max(acc, Math.abs(x)), 0);
  const plain = (value: unknown): ReferenceValue => ({ value, scale: m });
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n ? xs.reduce((a, x) => a + (x - mean) * (x - mean), 0) / n : 0;
  const complete = inWindow.filter((x) =>
    agg.fields.every((f) => fieldOf(x.e, f) !== null && fieldOf(x.e, f) !== undefined),
  );
  const pick = (x: { e: Record<string, unknown> }) =>
    agg.fields.length === 1
      ? fieldOf(x.e, field)
      : Object.fromEntries(agg.fields.map((f) => [f, fieldOf(x.e, f)]));
  switch (agg.fn) {
    case 'count':
      return plain(inWindow.length);
    case 'sum':
      return plain(xs.reduce((a, b) => a + b, 0));
    case 'mean':
      return plain(n ? mean : null);
    case 'min':
      return plain(n ? Math.min(...xs) : null);
    case 'max':
      return plain(n ? Math.max(...xs) : null);
    case 'variance':
      return { value: n ? variance : null, scale: m * m };
    case 'stddev':
      return plain(n ? Math.sqrt(variance) : null);
    case 'first':
      return plain(complete.length ? pick(complete[0]!) : null);
    case 'last':
      return plain(complete.length ? pick(complete[complete.length - 1]!) : null);
    case 'firstK':
      return plain(complete.slice(0, agg.k).map(pick));
    case 'lastK':
      return plain(complete.reverse().slice(0, agg.k).map(pick));
    case 'countDistinct':
    case 'approxCountDistinct': {
      const values = inWindow.map((x) => fieldOf(x.e, field)).filter((v) => v !== null && v !== undefined);
      return plain(new Set(values.map((v) => JSON.stringify(v))).size);
    }
    case 'timeSinceLast':
      return plain(inWindow.length ? t - Math.max(...inWindow.map((x) => x.time)) : null);
    case 'timeSinceFirst':
      return plain(inWindow.length ? t - Math.min(...inWindow.map((x) => x.time)) : null);
    case 'approxQuantile': {
      const sorted = [...xs].sort((a, b) => a - b);
      return plain(n ? sorted[Math.max(1, Math.ceil(agg.q! * n)) - 1] : null);
    }
  }
}

function groupValues(
  plan: Plan,
  group: FeatureGroupPlan,
  events: readonly ReferenceEvent[],
  tables: readonly ReferenceTableRow[],
  key: string,
  t: number,
): Record<string, ReferenceValue> {
  const keyField = plan.streams[group.stream]!.keys[group.entity]!;
  const variables: Record<string, VariableType> = {};
  for (const f of plan.streams[group.stream]!.fields) variables[f.name] = f.type;
  for (const l of group.lookups) {
    variables[l.alias] = {
      fields: Object.fromEntries(plan.tables[l.table]!.fields.map((f) => [f.name, f.type])),
    };
  }
  const where = group.where?.kind === 'cel' ? compileCel(group.where.source, variables) : null;
  const chosen = deduplicate(plan, events)
    .filter((e) => e.stream === group.stream && asKey(e.fields[keyField]) === key)
    .map((e) => {
      const enriched: Record<string, unknown> = { ...e.fields };
      for (const l of group.lookups) {
        const lookupKey = asKey(e.fields[l.keyField]);
        const table = plan.tables[l.table]!;
        enriched[l.alias] =
          lookupKey === null ? null : lookupAsOf(tables, l.table, table.keyField, lookupKey, e.time);
      }
      return { time: e.time, seq: e.seq, e: enriched };
    })
    .filter(({ e }) => {
      if (!group.where) return true;
      if (group.where.kind === 'function') return (group.where.fn as (c: unknown) => unknown)(e) === true;
      return where!.evaluate(e) === true;
    });
  return Object.fromEntries(group.aggregations.map((agg) => [agg.name, aggregate(agg, chosen, t)]));
}

/** The reference vector of a view: every feature with its tolerance scale, then derived features. */
export function referenceVector(
  plan: Plan,
  viewName: string,
  events: readonly ReferenceEvent[],
  tables: readonly ReferenceTableRow[],
  keys: Readonly<Record<string, string>>,
  t: number,
  request: Readonly<Record<string, unknown>> = {},
): Record<string, ReferenceValue> {
  const view = plan.views[viewName]!;
  const out: Record<string, ReferenceValue> = {};
  const variables: Record<string, VariableType> = {};
  const perGroup = new Map<string, Record<string, ReferenceValue>>();
  for (const f of view.features) {
    const group = plan.features[f.group]!;
    if (!perGroup.has(f.group))
      perGroup.set(f.group, groupValues(plan, group, events, tables, keys[group.entity]!, t));
    out[f.name] = perGroup.get(f.group)![f.aggregation]!;
    const agg = group.aggregations.find((a) => a.name === f.aggregation)!;
    const types = new Map<string, 'double' | 'string' | 'bool' | 'any'>();
    for (const field of plan.streams[group.stream]!.fields) types.set(field.name, field.type);
    variables[f.name] = featureValueType(agg, types);
  }
  if (Object.keys(view.request).length) variables.request = { fields: { ...view.request } };
  const context: Record<string, unknown> = { request };
  for (const [name, v] of Object.entries(out)) context[name] = v.value;
  for (const d of view.derived) {
    if (d.expression.kind !== 'cel') throw new Error('the reference evaluates CEL only');
    const compiled = compileCel(d.expression.source, variables);
    variables[d.name] = compiled.resultType === 'bool' ? 'bool' : 'double';
    const value = compiled.evaluate(context);
    context[d.name] = value;
    out[d.name] = { value, scale: 0 };
  }
  return out;
}
